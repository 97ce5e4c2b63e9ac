# integration-admin (API.md section 10): stdout holds just the value,
# messages go to stderr, exit 0 / 1 (usage) / 2 (failure).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use MI::Test;

plan tests => 38;

my ($rc, $out, $err) = admin('migrate');
ok t_cmp($rc, 0, 'migrate is idempotent');
ok t_cmp($out, '', 'migrate prints nothing on stdout');

($rc, $out) = admin('org', 'create', 'Acme Imports');
ok t_cmp($rc, 0, 'org create');
ok t_cmp($out, qr/^org_[0-9a-z]{24}\n\z/, 'org id alone on stdout');
chomp(my $org = $out);

($rc, $out) = admin('integration', 'create', '--org', $org, 'SAP');
ok t_cmp($rc, 0, 'integration create');
ok t_cmp($out, qr/^int_[0-9a-z]{24}\n\z/, 'int_ id alone on stdout');
chomp(my $int = $out);

($rc, $out) = admin('token', 'create', '--integration', $int, '--name', 'sap',
                    '--scopes', 'integration:suppliers:read,integration:sync:read');
ok t_cmp($rc, 0, 'token create');
ok t_cmp($out, qr/^eudr_live_[0-9a-f]{48}\n\z/, 'raw token alone on stdout');
chomp(my $tok = $out);

my $r = api(GET => '/suppliers', token => $tok);
ok t_cmp($r->code, 200, 'the new token works');

($rc, $out) = admin('token', 'list', '--integration', $int);
ok t_cmp($rc, 0, 'token list');
ok t_cmp($out, qr/\tsap\teudr_live_[0-9a-f]{6}\t/, 'list shows name and prefix');
ok index($out, $tok) < 0;    # never the raw token
ok index($out, substr($tok, 16)) < 0;    # nor its secret part

($rc, $out) = admin('token', 'list', '--integration', $int, '--json');
my $list = decode_json($out);
ok t_cmp(scalar @$list, 1, 'JSON list');
ok t_cmp($list->[0]{prefix}, substr($tok, 0, 16), 'prefix is 16 characters');
ok t_cmp($list->[0]{scopes},
         'integration:suppliers:read,integration:sync:read', 'scopes');
ok is_json($list->[0]{revoked}, JSON::PP::false(), 'not revoked');
ok t_cmp($list->[0]{lastUsedAt}, qr/^\d{4}-/, 'last use recorded');
ok !exists $list->[0]{hash} && !exists $list->[0]{tokenHash};

($rc) = admin('token', 'revoke', $list->[0]{id});
ok t_cmp($rc, 0, 'revoke by id');
$r = api(GET => '/suppliers', token => $tok);
ok t_cmp(json_of($r)->{error}, 'TOKEN_REVOKED', 'revoked by id');
($rc, $out, $err) = admin('token', 'revoke', 'tok_nope');
ok t_cmp($rc, 2, 'revoking an unknown token fails');
ok t_cmp($err, qr/no such token/, 'and says so');

# Expiry as a date or a date-time.
($rc, $out) = admin('token', 'create', '--integration', $int, '--name', 'e',
                    '--scopes', 'all', '--expires', '2030-01-01');
ok t_cmp($rc, 0, 'expiry as a date');
($rc, $out, $err) = admin('token', 'create', '--integration', $int,
                          '--name', 'e', '--scopes', 'all',
                          '--expires', 'tomorrow');
ok t_cmp($rc, 1, 'bad expiry is a usage error');

# Usage errors: exit 1, nothing on stdout.
for my $args (['frobnicate'], ['org', 'create'], ['token', 'create',
              '--integration', $int, '--name', 'x', '--scopes', 'nope:scope'],
              ['integration', 'create', 'no-org'], []) {
    ($rc, $out, $err) = admin(@$args);
    ok t_cmp($rc, 1, "usage error: @$args");
    ok t_cmp($out, '', "nothing on stdout: @$args");
}

# Failures: exit 2 with a message.
($rc, $out, $err) = admin('integration', 'create', '--org', 'org_nope', 'x');
ok t_cmp($rc, 2, 'unknown organization');
ok t_cmp($err, qr/no such organization/, 'message');
($rc, $out, $err) = admin('token', 'create', '--integration', 'int_nope',
                          '--name', 'x', '--scopes', 'all');
ok t_cmp($rc, 2, 'unknown integration');
