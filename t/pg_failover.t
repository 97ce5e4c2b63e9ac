# PostgreSQL only: a failover under write load. A primary and a streaming
# standby of this test's own (pg_basebackup, synchronous replication, as
# production runs them), a server whose DBDParams name both hosts with
# target_session_attrs=read-write; while a client writes, the primary is
# stopped and the standby promoted (pg_ctl promote). What the contract
# promises (API.md section 12): only 503 with Retry-After for a few
# seconds, no acknowledged write lost, no httpd restart; named statements
# and the delivery thread carry on on the new primary.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use File::Temp ();
use HTTP::Request ();
use LWP::UserAgent ();
use POSIX ();
use Time::HiRes qw(time sleep);
use MI::Test;
use MI::Receiver;
use MI::Server;

plan tests => 12, have_lwp;

die "this suite runs against PostgreSQL only" unless db_driver() eq 'pgsql';
my ($bin) = sort { $b cmp $a } glob '/usr/lib/postgresql/*/bin';
die "no PostgreSQL binaries" unless $bin && -x "$bin/pg_ctl";

my $dir = File::Temp::tempdir(CLEANUP => 1);
chmod 0755, $dir;
sub fail { die "$_[0]\n" . `tail -5 '$dir/commands.log' 2>/dev/null` }
my ($p1, $p2) = (MI::Server::free_port(), MI::Server::free_port());
# A command as the postgres user, bounded, its output to the test's log.
sub as_postgres {
    my $cmd = join ' ', map { "'$_'" } @_;
    return system("runuser -u postgres -- timeout 60 $cmd >>'$dir/commands.log' 2>&1") == 0;
}
sub ctl {
    my ($data, $port, @args) = @_;
    return as_postgres("$bin/pg_ctl", '-D', "$dir/$data", '-l', "$dir/$data.log",
        '-o', "-p $port -k $dir -c listen_addresses=127.0.0.1", @args);
}
system('chown', 'postgres', $dir) == 0 or die "chown: $?";
as_postgres("$bin/initdb", '-D', "$dir/a", '-A', 'trust', '-U', 'postgres')
    or fail('initdb failed');
ctl('a', $p1, '-w', 'start') or fail('the primary did not start');
END { ctl('a', $p1, '-m', 'immediate', 'stop') if $p1; ctl('b', $p2, '-m', 'immediate', 'stop') if $p2 }
as_postgres("$bin/createdb", '-h', '127.0.0.1', '-p', $p1, '-U', 'postgres', 'mi_failover')
    or fail('createdb failed');
as_postgres("$bin/pg_basebackup", '-h', '127.0.0.1', '-p', $p1, '-U', 'postgres',
            '-D', "$dir/b", '-R', '-X', 'stream', '-c', 'fast') or fail('pg_basebackup failed');
ctl('b', $p2, '-w', 'start') or fail('the standby did not start');
# Synchronous from now on: a commit is acknowledged once the standby has it.
as_postgres("$bin/psql", '-X', '-q', '-h', '127.0.0.1', '-p', $p1, '-U', 'postgres',
            '-c', "ALTER SYSTEM SET synchronous_standby_names = '*'",
            '-c', 'SELECT pg_reload_conf()') or fail('synchronous replication');

my $params = "host=127.0.0.1,127.0.0.1 port=$p1,$p2 dbname=mi_failover "
           . 'user=postgres target_session_attrs=read-write connect_timeout=2';
system("timeout 60 '$ENV{MI_ADMIN}' --driver pgsql --params '$params' migrate "
       . '>/dev/null 2>&1') == 0 or fail('migrate failed');
my $s = MI::Server->new(params => $params, conf => join "\n",
    'IntegrationRateLimit 0', 'IntegrationWebhookAllowHttp On',
    'IntegrationWebhookAllowNetworks 127.0.0.0/8', 'IntegrationWebhookTimeout 1s',
    'IntegrationWebhookRetryDelays 200ms 400ms 800ms 1s 2s');
ok t_cmp($s->start, 1, 'a server on the pair starts') or print STDERR $s->log_text;
my $t = do { local $ENV{MI_DB_PARAMS} = $params; tenant() };
my $auth = "Bearer $t->{token}";
my $rx = MI::Receiver->start;
my $hook = $s->ua->post($s->url('/webhook-events'), Authorization => $auth,
    'Content-Type' => 'application/json',
    Content => encode_json({ url => $rx->url, events => ['supplier.created'] }));
die 'webhook: ' . $hook->code unless $hook->code == 201;
my $pid_before = $s->pid;

# The client: one supplier per request, as fast as answers come, for at
# most 40 s or until told to stop; every answer logged as
# "time code retry-after externalId".
my $log = "$dir/writes.log";
my $stop = "$dir/stop";
my $writer = fork // die "fork: $!";
if (!$writer) {
    my $ua = LWP::UserAgent->new(timeout => 10, keep_alive => 1);
    open my $out, '>', $log or POSIX::_exit(1);
    $out->autoflush(1);
    my $until = time + 40;
    for (my $n = 1; time < $until && !-e $stop; $n++) {
        my $r = $ua->post($s->url('/suppliers'), Authorization => $auth,
            'Content-Type' => 'application/json',
            Content => encode_json({ suppliers => [ { externalId => "FO-$n", name => 'f' } ] }));
        printf $out "%.3f %d %s FO-%d\n", time, $r->code,
            $r->header('Retry-After') // '-', $n;
    }
    POSIX::_exit(0);
}
sub writes {
    open my $in, '<', $log or return ();
    return map { [ split ' ' ] } grep { /\n\z/ } <$in>;
}
sleep 0.2 until scalar(my @so_far = writes()) >= 20 || !kill 0, $writer;

# The failover: the primary stops (a clean stop: it hands the standby all
# it acknowledged), the standby is promoted.
my $down = time;
ctl('a', $p1, '-m', 'fast', '-w', 'stop') or fail('the primary did not stop');
ctl('b', $p2, '-w', 'promote') or fail('the standby was not promoted');
my $promoted = time;
# Until writes have succeeded again for 3 s.
my $until = time + 30;
while (time < $until) {
    my @ok_after = grep { $_->[0] > $promoted && $_->[1] == 200 } writes();
    last if @ok_after && $ok_after[-1][0] - $ok_after[0][0] > 3;
    sleep 0.2;
}
open my $touch, '>', $stop or die $!;
close $touch;
waitpid $writer, 0;

my @w = writes();
my @failed = grep { $_->[1] != 200 } @w;
my @odd = grep { $_->[1] != 503 || $_->[2] eq '-' } @failed;
ok t_cmp(scalar @odd, 0, 'every failed write was a 503 with Retry-After')
    or print STDERR '# ', join(' ', map { "$_->[1]" } @odd[0 .. ($#odd > 9 ? 9 : $#odd)]), "\n";
# The outage: from the first failed write to the first success after the
# last one.
my ($first_fail, $last_fail) = @failed ? ($failed[0][0], $failed[-1][0]) : ($down, $down);
my ($back) = grep { $_->[0] > $last_fail && $_->[1] == 200 } @w;
my $outage = $back ? $back->[0] - $first_fail : 99;
printf STDERR "# %d writes, %d answered 503 over %.1f s (from %.1f s after the"
    . " stop); writes succeed again %.1f s after the promotion\n", scalar @w,
    scalar @failed, $outage, $first_fail - $down,
    $back ? $back->[0] - $promoted : 99;
ok t_cmp($outage < 15 ? 'within 15 s' : sprintf('%.1f s', $outage), 'within 15 s',
         'writes succeed again on the new primary within seconds');
ok t_cmp($back && $back->[0] < $promoted + 15 ? 'soon after' : 'not',
         'soon after', 'and from soon after the promotion on, every write succeeds');
ok t_cmp($s->pid, $pid_before, 'without an httpd restart');

# Every acknowledged write is on the new primary.
my @acked = map { $_->[3] } grep { $_->[1] == 200 } @w;
my %have = map { $_ => 1 } split /\n/, `runuser -u postgres -- $bin/psql -X -A -t -h 127.0.0.1 -p $p2 -U postgres -d mi_failover -c "SELECT external_id FROM suppliers WHERE external_id LIKE 'FO-%'"`;
my @lost = grep { !$have{$_} } @acked;
ok t_cmp(scalar @acked > 20 ? 'many' : scalar @acked, 'many', 'writes acknowledged on both sides of the failover');
ok t_cmp(scalar @lost, 0, 'no acknowledged write lost') or print STDERR "# lost: @lost[0 .. 4]\n";

# Reads, single records and the health check on the new primary.
my $r = $s->ua->get($s->url('/health'));
ok t_cmp($r->code, 200, 'health on the new primary');
$r = $s->ua->get($s->url("/suppliers/$acked[-1]"), Authorization => $auth);
ok t_cmp($r->code, 200, 'a record written after the failover reads back');
$r = $s->ua->get($s->url('/suppliers?limit=1'), Authorization => $auth);
ok t_cmp($r->code, 200, 'a listing on the new primary');

# The delivery thread carries on: a write now is delivered.
$rx->clear;
$r = $s->ua->post($s->url('/suppliers'), Authorization => $auth,
    'Content-Type' => 'application/json',
    Content => encode_json({ suppliers => [ { externalId => 'FO-LAST', name => 'l' } ] }));
ok t_cmp($r->code, 200, 'one more write');
my @got = $rx->wait_for(sub { grep { $_->{body} =~ /FO-LAST/ } @_ }, 20);
ok t_cmp(scalar(grep { $_->{body} =~ /FO-LAST/ } @got) >= 1 ? 'delivered' : 'not',
         'delivered', 'its webhook delivered from the new primary');
$s->stop;
$rx->stop;
