# Rate limits shared by several nodes (API.md section 3, docs/directives.md
# IntegrationRateLimitStore): two servers of this test's own, on the
# suite's database, count in the Redis that build/dev test started
# (MI_REDIS_URL): one token's requests, sent to each in turn, pass exactly
# the limit. While Redis does not answer (stopped with SIGSTOP, so that it
# hangs rather than refuses), every request is still answered, within a
# bound; each node counts alone and says so once in its log. Continued,
# Redis counts for both again. Both counts survive a graceful restart.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Time::HiRes qw(time sleep);
use MI::Test;
use MI::Server;

plan tests => 28, have_lwp;

my $redis = $ENV{MI_REDIS_URL}
    or die "MI_REDIS_URL is not set (build/dev test starts a Redis)";
my $redis_pid = $ENV{MI_REDIS_PID} or die "MI_REDIS_PID is not set";
my $N = 5;
# The most a request may take while Redis hangs: the module waits 200 ms
# for it; the rest is room for the sanitizers and a loaded machine.
my $BOUND = 1.5;

my @s = map {
    MI::Server->new(conf => "IntegrationRateLimit $N 60\n"
                          . "IntegrationRateLimitStore $redis")
} 1 .. 2;
for my $i (0, 1) {
    ok t_cmp($s[$i]->start, 1, "node $i starts") or print STDERR $s[$i]->log_text;
}

# GET /suppliers on a server: (response, seconds it took).
sub get {
    my ($server, $token) = @_;
    my $t0 = time;
    my $r = $server->ua->get($server->url('/suppliers'),
                             Authorization => "Bearer $token");
    return ($r, time - $t0);
}

# k requests of token, to the servers in turn: the codes, the
# X-RateLimit-Remaining values, the last 429, the longest time taken.
sub run {
    my ($token, $k, @servers) = @_;
    my (@codes, @left, $refused, $slowest);
    $slowest = 0;
    for my $i (0 .. $k - 1) {
        my ($r, $took) = get($servers[$i % @servers], $token);
        push @codes, $r->code;
        push @left, $r->header('X-RateLimit-Remaining') // '-';
        $refused = $r if $r->code == 429;
        $slowest = $took if $took > $slowest;
    }
    return (join(' ', @codes), join(' ', @left), $refused, $slowest);
}

# How many lines of the server's error_log have the tag.
sub lines_of {
    my ($server, $tag) = @_;
    return scalar(() = $server->log_text =~ /\Q$tag\E/g);
}

sub redis_cli { my $out = `timeout 5 redis-cli -u $redis @_ 2>&1`; $out }

my $passed = join ' ', (200) x $N;
my $refused = join ' ', (429) x $N;

# ---- shared: one count for both nodes --------------------------------------

my $shared = tenant();
my ($codes, $left, $r) = run($shared->{token}, 2 * $N, @s);
ok t_cmp($codes, "$passed $refused",
         "$N of 2 x $N requests pass, sent to the nodes in turn");
ok t_cmp($left, join(' ', reverse(0 .. $N - 1), (0) x $N),
         'X-RateLimit-Remaining counts down across the nodes');
ok t_cmp($r && json_of($r)->{error}, 'RATE_LIMIT_EXCEEDED', '429 code');
ok t_cmp($r && json_of($r)->{message},
         "Rate limit of $N requests per 60 seconds exceeded", '429 message');
my $wait = $r ? $r->header('Retry-After') // 0 : 0;
ok t_cmp($wait >= 1 && $wait <= 60 ? 1 : 0, 1, "Retry-After ($wait)");
my ($r0) = get($s[0], $shared->{token});
my ($r1) = get($s[1], $shared->{token});
ok t_cmp(abs(($r0->header('X-RateLimit-Reset') // 0)
             - ($r1->header('X-RateLimit-Reset') // 1)) <= 1 ? 1 : 0, 1,
         'both nodes give the same X-RateLimit-Reset');
ok t_cmp($r0->header('X-RateLimit-Limit'), $N, 'X-RateLimit-Limit');

my $keys = redis_cli("--scan --pattern 'mi:rl:*'");
ok t_cmp($keys =~ /^mi:rl:\S+$/m ? 1 : 0, 1, 'counts are kept as mi:rl:<id>')
    or print STDERR "# redis-cli: $keys";
ok t_cmp(index($keys . redis_cli("--scan"), $shared->{token}), -1,
         'no key holds the token');

# A graceful restart: the count is Redis's, untouched.
$s[0]->graceful;
$s[0]->health_becomes(200);
($r0) = get($s[0], $shared->{token});
ok t_cmp($r0->code, 429, 'a graceful restart keeps the shared count');

# ---- Redis hangs: each node counts alone ----------------------------------

kill 'STOP', $redis_pid or die "kill -STOP $redis_pid: $!";
my $stopped = 1;
END { kill 'CONT', $redis_pid if $stopped }

my $alone = tenant();
my ($c0, $l0, undef, $slow0) = run($alone->{token}, $N + 1, $s[0]);
my ($c1, $l1, undef, $slow1) = run($alone->{token}, $N + 1, $s[1]);
ok t_cmp($c0, "$passed 429", 'Redis hangs: node 0 counts on its own');
ok t_cmp($c1, "$passed 429", '...and node 1 on its own (2 x the limit)');
ok t_cmp($l0, join(' ', reverse(0 .. $N - 1), 0), '...with its headers');
my $slowest = $slow0 > $slow1 ? $slow0 : $slow1;
ok t_cmp($slowest < $BOUND ? 1 : 0, 1,
         sprintf('no request waited long (slowest %.3f s)', $slowest));
ok t_cmp(lines_of($s[0], 'MI00401') . ' ' . lines_of($s[1], 'MI00401'), '1 1',
         'each node logs the outage once');
ok t_cmp(lines_of($s[0], 'MI00402') + lines_of($s[1], 'MI00402'), 0,
         '...and not again within the interval');
ok t_cmp(index($s[0]->log_text . $s[1]->log_text, 'eudr_live_'), -1,
         'no token in the logs');

# A graceful restart while it hangs: the node's own count is kept too.
$s[1]->graceful;
$s[1]->health_becomes(200);
my ($rb, $took) = get($s[1], $alone->{token});
ok t_cmp($rb->code, 429, "a graceful restart keeps the node's count");
ok t_cmp($took < $BOUND ? 1 : 0, 1, sprintf('...answered in %.3f s', $took));

# ---- Redis answers again: shared again -------------------------------------

kill 'CONT', $redis_pid or die "kill -CONT $redis_pid: $!";
$stopped = 0;
# Each node tries Redis again on a request at most a second after the
# last try: requests of another token until both say so (at most 10 s).
my $probe = tenant();
my $t0 = time;
while (time - $t0 < 10
       && (lines_of($s[0], 'MI00403') < 1 || lines_of($s[1], 'MI00403') < 1)) {
    get($_, $probe->{token}) for @s;
    sleep 0.2;
}
ok t_cmp(lines_of($s[0], 'MI00403') . ' ' . lines_of($s[1], 'MI00403'), '1 1',
         'each node logs that Redis answers again');
my $again = tenant();
($codes, $left) = run($again->{token}, 2 * $N, @s);
ok t_cmp($codes, "$passed $refused", 'counted in Redis again: the limit holds');
ok t_cmp($left, join(' ', reverse(0 .. $N - 1), (0) x $N),
         '...in one count');

# A node whose Redis cannot be reached at all (nothing listens there):
# answered from its own count from the start.
my $nowhere = MI::Server->new(conf => "IntegrationRateLimit $N 60\n"
    . "IntegrationRateLimitStore redis://127.0.0.1:" . MI::Server::free_port());
ok t_cmp($nowhere->start, 1, 'a node with an unreachable Redis starts');
my $lonely = tenant();
($codes, undef, undef, $slowest) = run($lonely->{token}, $N + 1, $nowhere);
ok t_cmp($codes, "$passed 429", '...and counts on its own');
ok t_cmp($slowest < $BOUND ? 1 : 0, 1,
         sprintf('...without waiting (slowest %.3f s)', $slowest));
ok t_cmp(lines_of($nowhere, 'MI00401'), 1, '...and logs it once');
