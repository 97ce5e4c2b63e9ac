# GET /health (API.md section 11): 200 when the database answers, 503
# (JSON SERVICE_UNAVAILABLE with Retry-After) when it does not, and 200
# again once it does, without a restart. On a server and a database of
# this test's own, so that the suite's are never touched: SQLite, a file
# its children cannot open (made unreadable; the restart that makes them
# open it again); PostgreSQL, a database that refuses connections (its
# sessions ended). t/outage.t and t/restart.t show the database missing
# at a start or a restart.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use File::Temp ();
use Time::HiRes qw(sleep);
use MI::Test;
use MI::DB;
use MI::Server;

plan tests => 12, have_lwp;

my $sqlite = db_driver() eq 'sqlite3';
my ($file, $pgdb, $params);
if ($sqlite) {
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    chmod 0777, $dir;
    $file = "$dir/health.db";
    $params = $file;
}
else {
    $pgdb = "mi_health_$$";
    db_rows("CREATE DATABASE $pgdb");
    ($params = $ENV{MI_DB_PARAMS}) =~ s/dbname=\S+/dbname=$pgdb/;
}
system("timeout 60 '$ENV{MI_ADMIN}' --driver " . db_driver()
       . " --params '$params' migrate 2>/dev/null") == 0 or die "migrate failed";
chmod 0666, $file if $sqlite;

my $s = MI::Server->new(params => $params);
ok t_cmp($s->start, 1, 'a server of its own starts') or print STDERR $s->log_text;
ok t_cmp($s->health_becomes(200), 200, 'health: 200 while the database answers');

# The database stops answering.
if ($sqlite) {
    chmod 0000, $file or die "chmod: $!";
    # A child that has the file open already may go on answering; the
    # children of a restart cannot open it.
    $s->graceful;
}
else {
    db_rows("ALTER DATABASE $pgdb ALLOW_CONNECTIONS false");
    db_rows("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            . "WHERE datname = '$pgdb'");
}
ok t_cmp($s->health_becomes(503), 503, 'health: 503 once it does not');
my $r = $s->last_health;
ok t_cmp($r->header('Content-Type') // '', qr{^application/json(?:;|\z)},
         '503: Content-Type application/json');
ok t_cmp(json_of($r)->{error}, 'SERVICE_UNAVAILABLE', '503: SERVICE_UNAVAILABLE');
ok t_cmp(json_of($r)->{message}, 'The database is not available; retry later',
         '503: the message');
ok t_cmp(($r->header('Retry-After') // 0) > 0 ? 1 : 0, 1, '503: Retry-After');
$r = $s->ua->get($s->url('/suppliers'),
                 Authorization => 'Bearer eudr_live_' . ('1' x 48));
ok t_cmp(code_error($r), '503 SERVICE_UNAVAILABLE',
         'a request with a token: 503 (its token cannot be looked up)');
ok t_cmp($s->pid ? 1 : 0, 1, 'httpd keeps running');

# It answers again: no restart needed.
if ($sqlite) {
    chmod 0666, $file or die "chmod: $!";
}
else {
    db_rows("ALTER DATABASE $pgdb ALLOW_CONNECTIONS true");
}
ok t_cmp($s->health_becomes(200), 200, 'health: 200 again, without a restart');
# That answer's (another child may still be in the second of 503s that
# follows a failed connect).
ok t_cmp(json_of($s->last_health)->{status}, 'ok', 'health says ok');
ok t_cmp(scalar(() = $s->log_text =~ /exit signal|AH00052/g), 0,
         'no child exited by a signal');
$s->stop;
undef $s;

sub code_error {
    my ($r) = @_;
    my $b = eval { decode_json($r->content) };
    return $r->code . ' ' . (ref $b eq 'HASH' ? $b->{error} // '-' : 'not JSON');
}

END {
    local $?;    # the test's exit status
    if ($pgdb) {
        eval { db_rows("ALTER DATABASE $pgdb ALLOW_CONNECTIONS true") };
        eval { db_rows("DROP DATABASE IF EXISTS $pgdb WITH (FORCE)") };
    }
}
