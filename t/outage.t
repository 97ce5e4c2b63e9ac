# The database never stops httpd (API.md section 12): a cold start with the
# database unreachable starts and answers 503; a graceful restart onto a
# database whose schema is too old keeps httpd running (503, naming the
# fix), where a cold start onto it is refused (t/startup.t).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use LWP::UserAgent ();
use Time::HiRes qw(time sleep);
use MI::Test;

plan tests => 10;

my $httpd = $ENV{MI_HTTPD} or die "MI_HTTPD is not set";
my $mods = $ENV{MI_HTTPD_MODULES};
my $dir = tempdir(CLEANUP => 1);
chmod 0777, $dir;
my $port = do {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1) or die "port: $!";
    $s->sockport;
};
my $ua = LWP::UserAgent->new(timeout => 10, keep_alive => 0);
my $health = "http://127.0.0.1:$port" . BASE . '/health';

# A database that cannot be reached: nothing listens on port 1; SQLite
# cannot open a directory.
my $unreachable = db_driver() eq 'pgsql'
    ? 'host=127.0.0.1 port=1 dbname=mi_test user=postgres connect_timeout=2'
    : $dir;
# A database without the schema.
my $old = db_driver() eq 'pgsql'
    ? do { (my $p = $ENV{MI_DB_PARAMS}) =~ s/dbname=\S+/dbname=postgres/; $p }
    : "$dir/old.db";
if (db_driver() eq 'sqlite3') {
    system('sqlite3', $old, 'CREATE TABLE unrelated (a);') == 0
        or die "sqlite3 failed";
    chmod 0666, $old;
}

sub write_conf {
    my ($params) = @_;
    my $user = $> == 0 ? "User nobody\nGroup nogroup" : '';
    open my $fh, '>', "$dir/httpd.conf" or die $!;
    print $fh <<CONF;
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
ErrorLog "$dir/error_log"
LogLevel warn
$user
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dbd_module $mods/mod_dbd.so
LoadModule integration_module $ENV{MI_MODULE}
StartServers 1
DBDriver $ENV{MI_DB_DRIVER}
DBDParams "$params"
DBDMin 1
DBDKeep 1
DBDMax 1
IntegrationDbTimeout 2s
<Location /api/v1/integration>
    SetHandler integration
</Location>
CONF
    close $fh;
}

sub httpd { system($httpd, '-f', "$dir/httpd.conf", '-k', @_) }
sub running {
    open my $fh, '<', "$dir/httpd.pid" or return 0;
    chomp(my $pid = <$fh> // '');
    return $pid && kill(0, $pid) ? $pid : 0;
}
# The status /health settles on within 10 s (the first answer of a new
# child may still be the old generation's).
sub health_becomes {
    my ($want) = @_;
    my $code = 0;
    for (1 .. 50) {
        $code = $ua->get($health)->code;
        return $code if $code == $want;
        sleep 0.2;
    }
    return $code;
}
sub log_text { local $/; open my $fh, '<', "$dir/error_log" or return ''; <$fh> }
# The server of this file lives no longer than the file, whatever ends it
# (a failed check that dies, build/dev test's timeout): it runs detached,
# out of reach of a signal to the test's process group.
$SIG{TERM} = $SIG{INT} = sub { exit 1 };
END {
    my $rc = $?;
    if (my $left = running()) {
        kill 'TERM', $left;
    }
    $? = $rc;
}

write_conf($unreachable);
ok t_cmp(httpd('start'), 0, 'httpd starts with the database unreachable');
sleep 1;
ok t_cmp(running() ? 1 : 0, 1, 'and keeps running');
my $r = $ua->get($health);
ok t_cmp($r->code, 503, 'health answers 503');
ok t_cmp(log_text(), qr/cannot reach the \S+ database/, 'the log says why');

write_conf($ENV{MI_DB_PARAMS});
httpd('graceful');
ok t_cmp(health_becomes(200), 200,
         'a graceful restart onto the database serves');

my $pid = running();
write_conf($old);
httpd('graceful');
ok t_cmp(health_becomes(503), 503,
         'a graceful restart onto an old schema answers 503');
ok t_cmp(running(), $pid, 'the same httpd keeps running');
ok t_cmp(log_text(), qr/integration-admin .*migrate/, 'naming the fix');
ok t_cmp(log_text() =~ /exit signal|Configuration Failed/ ? 1 : 0, 0,
         'no child crashed, no configuration failed');
httpd('stop');
for (1 .. 50) { last unless running(); sleep 0.1 }
ok t_cmp(running() ? 'running' : 'stopped', 'stopped', 'httpd -k stop stops it');
