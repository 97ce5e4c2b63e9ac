# integration-admin and tokens at rest (API.md sections 2 and 10), the rows
# t/admin.t leaves open: every field of `token list` (JSON and text), and
# never a hash; the database holds a token only as the SHA-256 of it (read
# from the database itself, not through the API); exit codes of
# `integration activate|deactivate`; a database that cannot be reached is
# a failure (exit 2, a message, nothing on stdout) for every command.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use IPC::Open3 ();
use Symbol ();
use MI::Test;
use MI::DB;

plan tests => 72, have_lwp;

my $iso = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/;
sub is_bool { JSON::PP::is_bool($_[0]) ? ($_[0] ? 'true' : 'false') : 'not a boolean' }

my ($rc, $out, $err) = admin('org', 'create', 'Admin Contract');
chomp(my $org = $out);
($rc, $out) = admin('integration', 'create', '--org', $org, 'ERP');
chomp(my $int = $out);
($rc, $out) = admin('token', 'create', '--integration', $int, '--name', 'used one',
                    '--scopes', 'integration:sync:read,integration:suppliers:read',
                    '--expires', '2999-01-02');
chomp(my $used = $out);
($rc, $out) = admin('token', 'create', '--integration', $int, '--name', 'idle',
                    '--scopes', 'all');
chomp(my $idle = $out);
ok t_cmp("$used $idle", qr/^eudr_live_[0-9a-f]{48} eudr_live_[0-9a-f]{48}\z/,
         'two tokens');
ok t_cmp(api(GET => '/sync-status', token => $used)->code, 200, 'one is used');

# ---- token list --json ----------------------------------------------------

($rc, $out, $err) = admin('token', 'list', '--integration', $int, '--json');
ok t_cmp($rc, 0, 'token list --json');
my $list = eval { decode_json($out) };
ok t_cmp(ref $list eq 'ARRAY' ? scalar @$list : "not a JSON array: $out", 2,
         'one entry per token');
my %by = map { $_->{name} => $_ } @{ $list || [] };
my ($u, $i) = ($by{'used one'} || {}, $by{idle} || {});
ok t_cmp(join(',', sort keys %$u),
         'createdAt,expiresAt,id,lastUsedAt,name,prefix,revoked,scopes',
         'the fields of an entry, and no other');
ok t_cmp(join(',', sort keys %$i), join(',', sort keys %$u),
         'the same fields for every entry');
ok t_cmp($u->{id}, qr/^tok_[0-9a-z]+\z/, 'id');
ok t_cmp($u->{id} ne ($i->{id} // '') ? 1 : 0, 1, 'ids differ');
ok t_cmp($u->{prefix}, substr($used, 0, 16), 'prefix: the first 16 characters');
ok t_cmp($i->{prefix}, substr($idle, 0, 16), 'prefix of the other');
ok t_cmp($u->{scopes}, 'integration:sync:read,integration:suppliers:read',
         'scopes, as given');
ok t_cmp(join(',', sort split /,/, $i->{scopes} // ''),
         join(',', sort map { "integration:$_" } qw(suppliers:read
              suppliers:write products:read products:write batches:read
              batches:write dds:read webhooks:manage sync:read)),
         'all: the nine scopes of API.md');
ok t_cmp($u->{expiresAt}, '2999-01-02T00:00:00.000Z', 'expiresAt');
ok t_cmp(exists $i->{expiresAt} && !defined $i->{expiresAt} ? 'null' : 'not null',
         'null', 'no expiry: expiresAt null');
ok t_cmp(is_bool($u->{revoked}), 'false', 'revoked: false, a JSON boolean');
ok t_cmp($u->{createdAt}, $iso, 'createdAt');
ok t_cmp($u->{lastUsedAt}, $iso, 'lastUsedAt of the used token');
ok t_cmp(exists $i->{lastUsedAt} && !defined $i->{lastUsedAt} ? 'null' : 'not null',
         'null', 'never used: lastUsedAt null');
my @hashes = map { sha256_hex($_) } $used, $idle;
ok t_cmp(scalar(grep { index($out, $_) >= 0 } @hashes, $used, $idle,
                substr($used, 16), substr($idle, 16)), 0,
         'neither a token nor its hash nor its secret part');

# --json before the command works the same.
my ($rc2, $out2) = admin('--json', 'token', 'list', '--integration', $int);
ok t_cmp($rc2 . ' ' . (eval { scalar @{ decode_json($out2) } } // 'not JSON'),
         '0 2', '--json as a global option');

# Revoked: true.
admin('token', 'revoke', $i->{id});
($rc, $out) = admin('token', 'list', '--integration', $int, '--json');
my $again = eval { decode_json($out) } || [];
%by = map { $_->{name} => $_ } @$again;
ok t_cmp(is_bool($by{idle}{revoked}), 'true', 'a revoked token: revoked true');
ok t_cmp(is_bool($by{'used one'}{revoked}), 'false', 'the other: false');

# ---- token list, as text: one line per token, tab-separated ---------------

($rc, $out, $err) = admin('token', 'list', '--integration', $int);
ok t_cmp($rc, 0, 'token list');
my %line = map { my @f = split /\t/; ($f[1] // '') => \@f } split /\n/, $out;
ok t_cmp(scalar keys %line, 2, 'a line per token');
ok t_cmp(join("\t", @{ $line{'used one'} || [] }),
         join("\t", $u->{id}, 'used one', substr($used, 0, 16),
              'integration:sync:read,integration:suppliers:read',
              'expires=2999-01-02T00:00:00.000Z', 'revoked=no',
              "last_used=$u->{lastUsedAt}"),
         'id, name, prefix, scopes, expiry, revoked, last used');
ok t_cmp(join("\t", @{ $line{idle} || [] }[0, 1, 2, 4, 5, 6]),
         join("\t", $i->{id}, 'idle', substr($idle, 0, 16), 'expires=-',
              'revoked=yes', 'last_used=-'),
         'no expiry, revoked, never used');
ok t_cmp(scalar(grep { index($out, $_) >= 0 } @hashes, $used, $idle,
                substr($used, 16), substr($idle, 16)), 0,
         'neither a token nor its hash nor its secret part');

# An integration without tokens lists nothing.
($rc, $out) = admin('integration', 'create', '--org', $org, 'Empty');
chomp(my $empty = $out);
($rc, $out) = admin('token', 'list', '--integration', $empty, '--json');
ok t_cmp("$rc $out", "0 []\n", 'no tokens: an empty JSON array');

# ---- tokens at rest: only their SHA-256 ---------------------------------

my @rows = db_rows("SELECT token_hash, prefix FROM tokens WHERE id = '$u->{id}'");
ok t_cmp(scalar @rows, 1, 'the token row, read from the database');
ok t_cmp($rows[0][0], sha256_hex($used), 'token_hash: the SHA-256 of the token, hex');
ok t_cmp($rows[0][1], substr($used, 0, 16), 'prefix: its first 16 characters');
# Not one column of any row, nor any page of the file, holds a token:
# the raw database (SQLite: the file and its log, freed pages included;
# PostgreSQL: every table's rows).
my $dump = db_dump();
ok t_cmp(length($dump) > 1000 && index($dump, $rows[0][0]) >= 0 ? 1 : 0, 1,
         'the dump holds the hash (it is a dump of this database)');
for my $tok ($used, $idle) {
    ok t_cmp(index($dump, $tok), -1, 'the database never holds the token');
    ok t_cmp(index($dump, substr($tok, 16)), -1, 'nor its secret part');
    ok t_cmp(index($dump, uc substr($tok, 10)), -1, 'nor its hex in capitals');
}
# Nor the server's logs, after requests with it, good and refused.
api(GET => '/suppliers', token => $used);
api(GET => '/nope', token => $used);
api(POST => '/suppliers', token => $used, body => '{');
my $logs = '';
for my $f (map { Apache::Test::vars('t_logs') . "/$_" } 'error_log', 'access_log') {
    open my $fh, '<', $f or next;
    local $/;
    $logs .= <$fh>;
}
ok t_cmp(length $logs > 0 ? 1 : 0, 1, 'the logs were read');
ok t_cmp(index($logs, substr($used, 10)), -1, 'the logs never hold the token');

# ---- integration activate | deactivate -----------------------------------

my $t = tenant();
($rc, $out, $err) = admin('integration', 'deactivate', $t->{integration});
ok t_cmp("$rc [$out]", '0 []', 'deactivate: exit 0, nothing on stdout');
ok t_cmp(json_of(api(GET => '/suppliers', token => $t->{token}))->{error},
         'INTEGRATION_INACTIVE', 'it took effect');
($rc, $out) = admin('integration', 'deactivate', $t->{integration});
ok t_cmp("$rc [$out]", '0 []', 'deactivating an inactive integration: exit 0');
($rc, $out, $err) = admin('integration', 'activate', $t->{integration});
ok t_cmp("$rc [$out]", '0 []', 'activate: exit 0, nothing on stdout');
ok t_cmp(api(GET => '/suppliers', token => $t->{token})->code, 200,
         'it took effect');
($rc, $out) = admin('integration', 'activate', $t->{integration});
ok t_cmp("$rc [$out]", '0 []', 'activating an active integration: exit 0');
for my $sub ('activate', 'deactivate') {
    ($rc, $out, $err) = admin('integration', $sub, 'int_nope');
    ok t_cmp("$rc [$out]", '2 []', "$sub of an unknown integration: exit 2");
    ok t_cmp($err, qr/^integration-admin: no such integration: int_nope$/m,
             "$sub: the message names it");
    ($rc, $out) = admin('integration', $sub);
    ok t_cmp("$rc [$out]", '1 []', "$sub without an id: usage, exit 1");
    ($rc, $out) = admin('integration', $sub, $t->{integration}, 'extra');
    ok t_cmp("$rc [$out]", '1 []', "$sub with two ids: usage, exit 1");
}
ok t_cmp(api(GET => '/suppliers', token => $t->{token})->code, 200,
         'the refused calls changed nothing');

# ---- a database that cannot be reached --------------------------------------

# Each driver, whatever the suite's: PostgreSQL where nothing listens;
# SQLite in a folder that does not exist.
my $dir = tempdir(CLEANUP => 1);
my %unreachable = (
    pgsql   => 'host=127.0.0.1 port=1 dbname=mi user=postgres connect_timeout=2',
    sqlite3 => "$dir/no/such/folder/x.db",
);
for my $driver (sort keys %unreachable) {
    for my $cmd ([ 'migrate' ], [ 'org', 'create', 'X' ],
                 [ 'integration', 'activate', $t->{integration} ],
                 [ 'token', 'list', '--integration', $int ]) {
        my ($c, $o, $e) = admin_with($driver, $unreachable{$driver}, @$cmd);
        ok t_cmp("$c [$o]", '2 []', "$driver unreachable: @$cmd exits 2");
        ok t_cmp($e, qr/^integration-admin: cannot open the database/m,
                 "$driver unreachable: @$cmd says so");
    }
}
ok !-e "$dir/no";    # and made no folder

# integration-admin with another database than the suite's.
sub admin_with {
    my ($driver, $params, @args) = @_;
    my $err = Symbol::gensym;
    my $pid = IPC::Open3::open3(my $in, my $o, $err, 'timeout', '30',
        $ENV{MI_ADMIN}, '--driver', $driver, '--params', $params, @args);
    close $in;
    my $stdout = do { local $/; <$o> } // '';
    my $stderr = do { local $/; <$err> } // '';
    waitpid $pid, 0;
    return ($? >> 8, $stdout, $stderr);
}
