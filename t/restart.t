# Graceful restarts (API.md sections 3 and 12): under write load with a
# webhook receiving, no child exits by a signal, no request fails, no write
# is lost and no attempt arrives twice; rate-limit counts survive; a
# database that is gone at the restart never stops httpd, and it serves
# again once the database is back.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Apache::TestRequest ();
use LWP::UserAgent ();
use Time::HiRes qw(time sleep);
use MI::Test;
use MI::Receiver;

plan tests => 22, have_lwp;

my $log = Apache::Test::vars('t_logs') . '/error_log';
my $log_start = -s $log // 0;
my $t = tenant();
my $tok = $t->{token};

# ---- five graceful restarts under write load ---------------------------
my $rx = MI::Receiver->start;
my $hook = json_of(api(POST => '/webhook-events', token => $tok,
    body => { url => $rx->url, events => ['supplier.created'] }));
die "no webhook: " . encode_json($hook) unless $hook->{id};

my ($writers, $rounds, $per) = (3, 25, 2);
pipe(my $rd, my $wr) or die "pipe: $!";
my @pids;
for my $w (1 .. $writers) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $rd;
        # A connection per request: a graceful restart may close an idle
        # kept-alive one, which a client retries, and this test must see
        # the module's own answers.
        Apache::TestRequest::user_agent(reset => 1, keep_alive => 0);
        for my $i (1 .. $rounds) {
            my $res = api(POST => '/suppliers', token => $tok, body => {
                suppliers => [ map { { externalId => "GR-$w-$i-$_",
                                       name => 'load' } } 1 .. $per ] });
            my $ok = $res->code == 200
                && (json_of($res)->{created} // 0) == $per;
            syswrite $wr, ($ok ? 'ok' : $res->code) . "\n";
            sleep 0.05;
        }
        POSIX::_exit(0);
    }
    push @pids, $pid;
}
close $wr;
for (1 .. 5) {
    sleep 0.5;
    graceful();
}
my @answers = map { chomp; $_ } <$rd>;
waitpid $_, 0 for @pids;
my $acked = $per * grep { $_ eq 'ok' } @answers;
ok t_cmp(scalar @answers, $writers * $rounds, 'every write was answered');
ok t_cmp(join(',', grep { $_ ne 'ok' } @answers), '',
         'no write failed during the restarts');
my $listed = json_of(api(GET => '/suppliers?limit=1', token => $tok));
ok t_cmp($listed->{total}, $acked, 'every acknowledged record is there');
# Every delivery (by its id: one that came twice must not stand in for one
# that has not come yet).
my @got = $rx->wait_for(sub {
    my %ids = map { $_->{headers}{'x-webhook-delivery'} => 1 } @_;
    keys %ids >= $acked;
}, 60);
my %times;
$times{ $_->{headers}{'x-webhook-delivery'} }++ for @got;
ok t_cmp(scalar keys %times, $acked, 'every record had its delivery');
# A retry after a failed attempt is counted; the same attempt never
# arrives twice (a stopping child gives back only what it did not send).
ok t_cmp(scalar(twice_sent($tok, $hook->{id}, %times)), 0,
         'no attempt arrived twice');
ok t_cmp(scalar(grep { /exit signal|AH00052/ } log_since($log_start)), 0,
         'no child exited by a signal');
$rx->stop;

# ---- an attempt in flight at a graceful restart finishes ----------------
# The answer comes 0.9 s after the request (the timeout is 1 s): the
# stopping child waits for it. Given back instead, it was sent again by the
# new generation, the same attempt twice.
# A connection per request: a kept-alive one would hold the old child.
Apache::TestRequest::user_agent(reset => 1, keep_alive => 0);
my $lt0 = tenant();
my $late = MI::Receiver->start;
$late->answer('late 0.9');
my $late_hook = json_of(api(POST => '/webhook-events', token => $lt0->{token},
    body => { url => $late->url, events => ['supplier.created'] }));
api(POST => '/suppliers', token => $lt0->{token},
    body => { suppliers => [ { externalId => 'GR-LATE', name => 'late' } ] });
$late->wait_for(sub { @_ >= 1 }, 10);
graceful();
sleep 2;    # for the new generation to send it again, were it given back
my %late_times;
$late_times{ $_->{headers}{'x-webhook-delivery'} }++ for $late->requests;
ok t_cmp(scalar keys %late_times, 1, 'the attempt in flight arrived');
ok t_cmp(scalar(twice_sent($lt0->{token}, $late_hook->{id}, %late_times)), 0,
         'and was not sent again by the new generation');
$late->stop;
# Back to one kept-alive connection, as MI::Test's api() makes it.
Apache::TestRequest::user_agent(reset => 1, keep_alive => 1);

# ---- rate-limit counts survive a graceful restart ----------------------
# The virtual host mi_limited allows 20 requests per 60 seconds.
Apache::TestRequest::module('mi_limited');
my $limited = 'http://' . Apache::TestRequest::hostport() . BASE . '/suppliers';
Apache::TestRequest::module('default');
my $lt = tenant();
my $ua = LWP::UserAgent->new(keep_alive => 0);
my %codes;
$codes{ $ua->get($limited, Authorization => "Bearer $lt->{token}")->code }++
    for 1 .. 12;
graceful();
$codes{ $ua->get($limited, Authorization => "Bearer $lt->{token}")->code }++
    for 1 .. 12;
ok t_cmp($codes{200} // 0, 20, 'exactly the limit passed across a restart');
ok t_cmp($codes{429} // 0, 4, 'the rest were refused');

# ---- the database gone at a graceful restart ---------------------------
my $pid = server_pid();
database('away');
graceful();
my $r = api(GET => '/health');
ok t_cmp($r->code, 503, 'health answers 503 while the database is gone');
ok t_cmp(($r->header('Retry-After') // 0) > 0, 1, 'with Retry-After');
$r = api(GET => '/suppliers', token => $tok);
ok t_cmp($r->code, 503, 'API requests answer 503');
ok t_cmp(json_of($r)->{error}, 'SERVICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE');
ok t_cmp(kill(0, $pid), 1, 'httpd keeps running');
database('back');
my $back = time;
# Asked on new connections, which reach any child, not only one kept alive.
Apache::TestRequest::user_agent(reset => 1, keep_alive => 0);
my $up = 0;
while (time - $back < 15) {
    if (api(GET => '/health')->code == 200) { $up = 1; last }
    sleep 0.05;
}
ok t_cmp($up, 1, 'it serves again once the database is back');
# A child whose connect failed while the database was away answers 503 for
# a second after that failure (docs/directives.md, IntegrationDbTimeout),
# and no connect fails once it is back: a second later every child serves.
my $rest = $back + 1.25 - time;
sleep $rest if $rest > 0;
my %after;
$after{ api(GET => '/health')->code }++ for 1 .. 20;
ok t_cmp($after{200} // 0, 20, 'every child serves a second after its return');
Apache::TestRequest::user_agent(reset => 1, keep_alive => 1);
$r = api(GET => '/suppliers?limit=1', token => $tok);
ok t_cmp($r->code, 200, 'with tokens and data');
ok t_cmp(json_of($r)->{total}, $acked, 'and nothing lost');
my @restarts = grep { /resuming normal operations/ } log_since($log_start);
ok t_cmp(scalar @restarts >= 7, 1, 'the restarts took place');
ok t_cmp(kill(0, $pid), 1, 'the same httpd still runs');
ok t_cmp(scalar(grep { /exit signal|AH00052|Configuration Failed/ }
                log_since($log_start)), 0,
         'no exit signal, no configuration failure');

# httpd -k graceful, then a moment for the new generation to start.
sub graceful {
    system($ENV{MI_HTTPD}, '-f', Apache::Test::vars('t_conf_file'),
           '-k', 'graceful') == 0 or die "graceful restart failed";
    sleep 1;
}

sub server_pid {
    open my $fh, '<', Apache::Test::vars('t_pid_file') or die "pid: $!";
    chomp(my $p = <$fh>);
    return $p;
}

sub log_since {
    my ($offset) = @_;
    open my $fh, '<', $log or return ();
    seek $fh, $offset, 0;
    return <$fh>;
}

# database('away'|'back'): PostgreSQL stopped and started; SQLite's files
# moved aside (after a checkpoint, so that the main file is whole) and
# back. On SQLite the children started at the restart hold an empty file
# sqlite3_open made in its place, so a second graceful restart is what
# brings it back (docs/directives.md, IntegrationDbTimeout).
sub database {
    my ($where) = @_;
    if (db_driver() eq 'pgsql') {
        system($ENV{MI_PG_CTL}, $where eq 'away' ? 'stop' : 'start') == 0
            or die "pg_ctl failed";
        return;
    }
    my $db = $ENV{MI_DB_PARAMS};
    if ($where eq 'away') {
        system('sqlite3', $db, 'PRAGMA wal_checkpoint(TRUNCATE);') == 0
            or die "checkpoint failed";
        for my $f ($db, "$db-wal", "$db-shm") {
            rename $f, "$f.away" if -e $f;
        }
        return;
    }
    for my $f ($db, "$db-wal", "$db-shm") {
        unlink $f;
        rename "$f.away", $f if -e "$f.away";
    }
    graceful();
}
