# The auth gate: every 401 and 403 with its WWW-Authenticate header, scopes,
# revocation, expiry, integration status, and tenant isolation
# (API.md sections 1 and 2).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use MI::Test;

plan tests => 51, have_lwp;

sub expect_error {
    my ($res, $status, $code, $what) = @_;
    ok t_cmp($res->code, $status, "$what: status");
    ok t_cmp(json_of($res)->{error}, $code, "$what: code");
}

my $t = tenant();
my $hex = '0123456789abcdef' x 3;

my $r = api(GET => '/suppliers');
expect_error($r, 401, 'AUTHENTICATION_REQUIRED', 'no header');
ok t_cmp($r->header('WWW-Authenticate'), 'Bearer', 'challenge without error');

for my $case (["Basic abc", 'Basic scheme'],
              ["Bearer", 'no token'],
              ["Bearer eudr_live_abc", 'short token'],
              ["Bearer eudr_test_$hex", 'wrong prefix'],
              ["Bearer eudr_live_" . uc($hex), 'uppercase hex'],
              ["Bearer eudr_live_${hex}0", 'token too long']) {
    $r = api(GET => '/suppliers', headers => { Authorization => $case->[0] });
    expect_error($r, 401, 'INVALID_TOKEN_FORMAT', $case->[1]);
}
ok t_cmp($r->header('WWW-Authenticate'), 'Bearer error="invalid_token"',
         'invalid_token challenge');

$r = api(GET => '/suppliers', token => "eudr_live_$hex");
expect_error($r, 401, 'INVALID_TOKEN', 'unknown token');
ok t_cmp($r->header('WWW-Authenticate'), 'Bearer error="invalid_token"',
         'unknown token challenge');

# The scheme word is case-insensitive.
$r = api(GET => '/suppliers',
         headers => { Authorization => "bearer $t->{token}" });
ok t_cmp($r->code, 200, 'lowercase scheme accepted');
ok !defined $r->header('WWW-Authenticate');    # no challenge on success
ok t_cmp($r->header('X-RateLimit-Limit'), qr/^\d+$/, 'rate headers on 200');

# Revoked.
my $rv = tenant();
my ($rc) = admin('token', 'revoke', $rv->{token});
ok t_cmp($rc, 0, 'revoke by raw token');
$r = api(GET => '/suppliers', token => $rv->{token});
expect_error($r, 401, 'TOKEN_REVOKED', 'revoked token');
ok t_cmp($r->header('WWW-Authenticate'), 'Bearer error="invalid_token"',
         'revoked challenge');

# Expired.
my $ex = tenant(expires => '2020-01-01T00:00:00Z');
$r = api(GET => '/suppliers', token => $ex->{token});
expect_error($r, 401, 'TOKEN_EXPIRED', 'expired token');
my $future = tenant(expires => '2999-01-01');
$r = api(GET => '/suppliers', token => $future->{token});
ok t_cmp($r->code, 200, 'token expiring in the future works');

# Integration not ACTIVE.
my $in = tenant();
admin('integration', 'deactivate', $in->{integration});
$r = api(GET => '/suppliers', token => $in->{token});
expect_error($r, 403, 'INTEGRATION_INACTIVE', 'inactive integration');
ok t_cmp($r->header('X-RateLimit-Limit'), qr/^\d+$/, 'rate headers on 403');
admin('integration', 'activate', $in->{integration});
$r = api(GET => '/suppliers', token => $in->{token});
ok t_cmp($r->code, 200, 're-activated integration works');

# Scopes: a read-only token cannot write.
my $ro = tenant(scopes => 'integration:suppliers:read');
$r = api(GET => '/suppliers', token => $ro->{token});
ok t_cmp($r->code, 200, 'read scope reads');
$r = api(POST => '/suppliers', token => $ro->{token},
         body => { suppliers => [ { externalId => 'X', name => 'x' } ] });
expect_error($r, 403, 'INSUFFICIENT_SCOPES', 'read-only POST');
ok t_cmp(json_of($r)->{message}, qr/integration:suppliers:write/,
         'message names the scope');
ok t_cmp($r->header('WWW-Authenticate'),
    'Bearer error="insufficient_scope", scope="integration:suppliers:write"',
    'insufficient_scope challenge');
$r = api(DELETE => '/suppliers/X', token => $ro->{token});
expect_error($r, 403, 'INSUFFICIENT_SCOPES', 'read-only DELETE');
my $wo = tenant(scopes => 'integration:suppliers:write');
$r = api(GET => '/suppliers', token => $wo->{token});
expect_error($r, 403, 'INSUFFICIENT_SCOPES', 'write-only GET');

# Tenant isolation: another organization sees, reads, changes and deletes
# nothing of the first one's suppliers.
my $a = tenant(name => 'Org A');
my $b = tenant(name => 'Org B');
$r = api(POST => '/suppliers', token => $a->{token},
         body => { suppliers => [ { externalId => 'SHARED-1', name => 'A' } ] });
ok t_cmp(json_of($r)->{created}, 1, 'org A creates SHARED-1');
my $a_id = json_of($r)->{records}[0]{internalId};

$r = api(GET => '/suppliers', token => $b->{token});
ok t_cmp(json_of($r)->{total}, 0, 'org B lists nothing');
$r = api(GET => '/suppliers/SHARED-1', token => $b->{token});
ok t_cmp($r->code, 404, 'org B cannot read it');
$r = api(DELETE => '/suppliers/SHARED-1', token => $b->{token});
ok t_cmp($r->code, 404, 'org B cannot delete it');
$r = api(POST => '/suppliers', token => $b->{token},
         body => { suppliers => [ { externalId => 'SHARED-1', name => 'B' } ] });
ok t_cmp(json_of($r)->{created}, 1, 'org B gets its own SHARED-1');
ok json_of($r)->{records}[0]{internalId} ne $a_id;    # with another id
$r = api(GET => '/suppliers/SHARED-1', token => $a->{token});
ok t_cmp(json_of($r)->{name}, 'A', "org A's record is unchanged");
ok t_cmp(json_of($r)->{internalId}, $a_id, 'and keeps its id');

# Two integrations of one organization share its records.
my $tok2 = integration($a->{org}, 'WMS')->{token};
$r = api(GET => '/suppliers/SHARED-1', token => $tok2);
ok t_cmp(json_of($r)->{name}, 'A', 'same organization, other integration');
