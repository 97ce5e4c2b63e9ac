# Start-up checks: bad directive values are refused at configuration time,
# and httpd refuses to start without mod_dbd or without the schema, each
# with a clear message (API.md section 12).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);
use MI::Test;

plan tests => 28;

my $httpd = $ENV{MI_HTTPD} or die "MI_HTTPD is not set";
my $mods = $ENV{MI_HTTPD_MODULES};
my $dir = tempdir(CLEANUP => 1);

# Every httpd of this file is bounded: one that should refuse to start but
# does not would run in the foreground for ever. timeout(1) ends it (exit
# code 124, or 137 if it had to be killed), and every caller asserts the
# exit code. Generous: a refusal takes a fraction of a second, but under
# the sanitizers and a loaded machine more.
my $limit = 30;

# Runs httpd with a configuration; returns (exit code, what it said).
sub httpd_with {
    my ($body, @args) = @_;
    my $conf = "$dir/httpd.conf";
    open my $fh, '>', $conf or die $!;
    print $fh <<CONF;
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:1
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
ErrorLog "$dir/error_log"
LoadModule mpm_event_module $mods/mod_mpm_event.so
$body
CONF
    close $fh;
    unlink "$dir/error_log";
    my $out = `timeout -k 5 $limit $httpd -f $conf @args 2>&1`;
    my $rc = $? >> 8;
    $out .= "(httpd still ran after $limit s: stopped)\n"
        if $rc == 124 || $rc == 137;
    if (open my $log, '<', "$dir/error_log") {
        local $/;
        $out .= <$log>;
    }
    return ($rc, $out);
}

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
