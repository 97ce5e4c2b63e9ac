# Start-up checks: bad directive values are refused at configuration time,
# and httpd refuses to start without mod_dbd or without the schema, each
# with a clear message (API.md section 12).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);
use MI::Test;
use MI::Server ();

plan tests => 28;

my $httpd = $ENV{MI_HTTPD} or die "MI_HTTPD is not set";
my $mods = $ENV{MI_HTTPD_MODULES};
my $dir = tempdir(CLEANUP => 1);

# Every httpd of this file runs bounded (MI::Server::httpd_with), and
# every caller asserts the exit code.
sub httpd_with { MI::Server::httpd_with($dir, @_) }

my $module = "LoadModule integration_module $ENV{MI_MODULE}";
my $dbd = "LoadModule dbd_module $mods/mod_dbd.so";
my $db = qq(DBDriver $ENV{MI_DB_DRIVER}\nDBDParams "$ENV{MI_DB_PARAMS}");

# Directive values, checked by httpd -t.
my ($rc, $out) = httpd_with("$dbd\n$module\n$db\nIntegrationMaxRecords 500\n"
    . "IntegrationRateLimit 100 60\nIntegrationMaxBodySize 8M\n"
    . "IntegrationListCache 0\nIntegrationDbTimeout 100ms", '-t');
ok t_cmp($rc, 0, 'a good configuration passes httpd -t');
for my $bad (['IntegrationMaxRecords 0', qr/IntegrationMaxRecords must be/],
             ['IntegrationMaxRecords lots', qr/IntegrationMaxRecords must be/],
             ['IntegrationRateLimit -1', qr/request count must be/],
             ['IntegrationRateLimit 10 0', qr/window must be/],
             ['IntegrationMaxBodySize 10X', qr/IntegrationMaxBodySize must be/],
             ['IntegrationMaxBodySize 0', qr/IntegrationMaxBodySize must be/],
             ['IntegrationListCache -1', qr/IntegrationListCache must be/],
             ['IntegrationListCache 5G', qr/IntegrationListCache must be/],
             ['IntegrationDbTimeout 99ms', qr/IntegrationDbTimeout must be/],
             ['IntegrationDbTimeout 11m', qr/IntegrationDbTimeout must be/],
             ['IntegrationDbTimeout soon', qr/IntegrationDbTimeout must be/]) {
    ($rc, $out) = httpd_with("$dbd\n$module\n$db\n$bad->[0]", '-t');
    ok t_cmp($rc, 1, "$bad->[0] refused by httpd -t");
    ok t_cmp($out, $bad->[1], "message for $bad->[0]");
}

# No mod_dbd.
($rc, $out) = httpd_with($module, '-DFOREGROUND');
ok t_cmp($rc, 1, 'httpd without mod_dbd exits 1 at once');
ok t_cmp($out, qr/mod_integration needs mod_dbd/, 'mod_dbd missing is named');

# No schema.
my $empty_db;
if (db_driver() eq 'sqlite3') {
    $empty_db = qq{DBDriver sqlite3\nDBDParams "$dir/missing.db"};
}
else {
    (my $params = $ENV{MI_DB_PARAMS}) =~ s/dbname=\S+/dbname=postgres/;
    $empty_db = qq{DBDriver pgsql\nDBDParams "$params"};
}
($rc, $out) = httpd_with("$dbd\n$module\n$empty_db", '-DFOREGROUND');
ok t_cmp($rc, 1, 'httpd on a database without the schema exits 1 at once');
ok t_cmp($out, qr/integration-admin .*migrate/,
         'a database without the schema is refused, naming the fix');
if (db_driver() eq 'sqlite3') {
    # The refusal comes before sqlite3_open, which would create the file.
    ok t_cmp(-e "$dir/missing.db" ? 'created' : 'absent', 'absent',
             'and no empty SQLite file was left behind');
}
else {
    # PostgreSQL's database exists and answers: the refusal is for what
    # the module found in it (no schema: version 0), not for anything else.
    ok t_cmp($out, qr/the pgsql database has schema version 0, this module needs [1-9]/,
             'the schema version found (none) and the one needed are named');
}
