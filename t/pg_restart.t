# PostgreSQL only: the database goes away and comes back while httpd runs.
# During the outage requests get 503 with Retry-After; afterwards they
# succeed again within seconds, without an httpd restart (DESIGN.md 5).
# The metrics count the 503s and the reconnects (docs/metrics.md).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Apache::TestRequest ();
use LWP::UserAgent ();
use Time::HiRes qw(time sleep);
use MI::Test;

plan tests => 21, have_lwp;

die "this suite runs against PostgreSQL only" unless db_driver() eq 'pgsql';
my $pg_ctl = $ENV{MI_PG_CTL} or die "MI_PG_CTL is not set";

my $t = tenant();
my $tok = $t->{token};

# A sample of the metrics page (fetched directly, not through a proxy).
my $ua = LWP::UserAgent->new(keep_alive => 0);
my $metrics = 'http://' . Apache::TestRequest::hostport() . '/integration-metrics';
sub metric {
    my ($name) = @_;
    my $text = $ua->get($metrics)->content;
    return $text =~ /^\Q$name\E (\S+)$/m ? $1 : undef;
}
my %m0 = map { $_ => metric($_) // 0 } qw(integration_db_unavailable_total
    integration_db_connect_failures_total integration_db_reconnects_total);

# Warm every pooled connection of every child.
for (1 .. 40) {
    api(POST => '/suppliers', token => $tok,
        body => { suppliers => [ { externalId => "W-$_", name => 'w' } ] });
}
my $r = api(GET => '/health');
ok t_cmp($r->code, 200, 'health up');

my $log = Apache::Test::vars('t_logs') . '/error_log';
my $log_start = -s $log;
system($pg_ctl, 'stop') == 0 or die "pg_ctl stop failed";
$r = api(GET => '/health');
ok t_cmp($r->code, 503, 'health down while the database is stopped');
ok t_cmp(json_of($r)->{error}, 'SERVICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE');
ok t_cmp($r->header('Retry-After') > 0, 1, 'Retry-After');
$r = api(GET => '/suppliers', token => $tok);
print STDERR "# during the outage: ", $r->code, ' ',
      ($r->header('Content-Type') // '-'), ' ', substr($r->content, 0, 120), "\n"
    unless $r->code == 503
        && ($r->header('Content-Type') // '') =~ m{^application/json};
ok t_cmp($r->code, 503, 'API requests get 503');
ok t_cmp($r->header('Content-Type'), qr{^application/json}, 'as JSON');
$r = api(POST => '/suppliers', token => $tok,
         body => { suppliers => [ { externalId => 'OUTAGE', name => 'x' } ] });
ok t_cmp($r->code, 503, 'writes get 503');

# A quiet outage: 60 failing requests within a second or two are not 60
# error-log lines (one per 5 s per child process, of at most 4).
my %outage;
$outage{ api(GET => '/suppliers', token => $tok)->code }++ for 1 .. 60;
my @lines = do {
    open my $fh, '<', $log or die "$log: $!";
    seek $fh, $log_start, 0;
    <$fh>;
};
ok t_cmp($outage{503} // 0, 60, 'every request of the outage got 503');
my $ours = grep { /MI00101/ } @lines;
ok t_cmp($ours <= 2 * 4, 1,
         "the module logged the outage $ours times (at most 2 per child)");
ok t_cmp(metric('integration_db_unavailable_total')
         - $m0{integration_db_unavailable_total} >= 63, 1,
         'integration_db_unavailable_total counted every 503');
ok t_cmp(metric('integration_db_connect_failures_total')
         - $m0{integration_db_connect_failures_total} >= 1, 1,
         'and the failed connects');
ok t_cmp(metric('integration_database_up'), 0,
         'the page says the database is down');

system($pg_ctl, 'start') == 0 or die "pg_ctl start failed";
my $start = time;
my $up = 0;
while (time - $start < 10) {
    $r = api(GET => '/health');
    if ($r->code == 200) { $up = 1; last }
    sleep 0.2;
}
ok t_cmp($up, 1, 'health up again within 10 s');

# Every pooled connection died with the server; none may fail a request
# now (each reconnects on its first statement).
my %codes;
for my $i (1 .. 40) {
    my $res = api(POST => '/suppliers', token => $tok,
        body => { suppliers => [ { externalId => "A-$i", name => 'after' } ] });
    $codes{ $res->code }++;
}
ok t_cmp($codes{200} // 0, 40, 'writes succeed after the restart');
my $l = json_ok(api(GET => '/suppliers?limit=100', token => $tok));
ok t_cmp($l->{total}, 80, 'no write was lost, none half-done');
ok t_cmp(scalar(grep { $_->{externalId} ne 'OUTAGE' } @{ $l->{entities} }), 80,
         'the 80 listed are the writes that succeeded, the refused one is not');

# A restart (not just stop/start) is recovered from as well.
system($pg_ctl, 'restart') == 0 or die "pg_ctl restart failed";
# A child whose delivery thread tried to connect while the server was down
# answers 503 for a second (the back-off of mod_integration_dbd.c): wait
# that out. Every pooled connection is still dead from the restart.
sleep 1.2;
%codes = ();
for (1 .. 20) {
    $codes{ api(GET => '/suppliers', token => $tok)->code }++;
}
ok t_cmp($codes{200} // 0, 20, 'reads succeed right after a restart')
    or print STDERR "# status codes after the restart: ",
        join(', ', map { "$_ x $codes{$_}" } sort keys %codes), "\n";
$r = api(GET => '/health');
ok t_cmp($r->code, 200, 'health up after the restart');
$r = api(GET => '/suppliers/A-1', token => $tok);
ok t_cmp(json_of($r)->{name}, 'after', 'data intact');
# The counters are added as each connection goes back to its pool, and
# the gauge by whichever thread next uses the database: they may trail
# the answers above by a tick (the delivery thread's 200 ms, its 1 s
# back-off after a failed connect). Waited for, 5 s at most.
sub within {
    my ($secs, $cond) = @_;
    my $until = time + $secs;
    my $v;
    sleep 0.2 until ($v = $cond->()) || time > $until;
    return $v ? 1 : 0;
}
ok t_cmp(within(5, sub { (metric('integration_db_reconnects_total') // 0)
                         - $m0{integration_db_reconnects_total} >= 1 }), 1,
         'integration_db_reconnects_total counted the reconnects');
ok t_cmp(within(5, sub { (metric('integration_database_up') // 0) == 1 }), 1,
         'the database is up again');
