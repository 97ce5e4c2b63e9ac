# PostgreSQL only: two nodes behind a load balancer, as production runs
# them. Two servers of this test's own (MI::Server: own roots and ports) on
# ONE database of the test's own, counting rate limits in the Redis that
# build/dev test started (MI_REDIS_URL), and a third httpd (MI::Balancer)
# that sends requests to them in turn. Each node names itself in an X-Node
# header. What the contract promises across nodes:
#   1. the rate limit is one count (API.md section 3);
#   2. overlapping bulk upserts through both nodes neither duplicate nor
#      lose a record, nor fail (section 4: each request's write is atomic);
#   3. a write through one node is listed at once through the other (the
#      listing cache, docs/directives.md IntegrationListCache);
#   4. an Idempotency-Key is one key whichever node gets it (section 4);
#   5. webhooks: both delivery threads take from one queue, every event is
#      delivered once, and what a killed node had claimed is delivered by
#      the other after its lease (section 9, "Guarantees", "at scale").
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use HTTP::Request ();
use LWP::UserAgent ();
use List::Util qw(sum);
use Time::HiRes qw(time sleep);
use MI::Test;
use MI::DB;
use MI::Receiver;
use MI::Server;
use MI::Balancer;

plan tests => 40, have_lwp;

die "this suite runs against PostgreSQL only" unless db_driver() eq 'pgsql';
my $redis = $ENV{MI_REDIS_URL}
    or die "MI_REDIS_URL is not set (build/dev test starts a Redis)";

# The rate limit of part 1, on a virtual host of each node (the other
# parts, on the main servers, are not limited).
my $N = 6;
my $owner = $$;
my $params = own_database('nodes');
END { drop_database($params) if $params && $$ == $owner }

# ---- the two nodes and the balancer ----------------------------------------

sub node {
    my ($name) = @_;
    return MI::Server->new(params => $params, conf => join("\n",
        "LoadModule headers_module $ENV{MI_HTTPD_MODULES}/mod_headers.so",
        "Header always set X-Node $name",
        'AllowEncodedSlashes NoDecode',
        # Room for the overlapping writes of part 2 and the delivery thread.
        'DBDKeep 2', 'DBDMax 4', 'IntegrationDbTimeout 5s',
        "IntegrationRateLimitStore $redis", 'IntegrationRateLimit 0',
        'IntegrationWebhookAllowHttp On',
        'IntegrationWebhookAllowNetworks 127.0.0.0/8',
        'IntegrationWebhookTimeout 1s', 'IntegrationWebhookRetryDelays 200ms 400ms',
        # A burst of failed attempts (part 5) must not disable the webhook.
        'IntegrationWebhookDisableAfter 100'),
        vhosts => [ "IntegrationRateLimit $N 60" ]);
}
my %node = (A => node('A'), B => node('B'));
for my $n (qw(A B)) {
    ok t_cmp($node{$n}->start, 1, "node $n starts") or print STDERR $node{$n}->log_text;
}
my $lb = MI::Balancer->start(routes => [
    [ BASE, BASE, map { 'http://127.0.0.1:' . $node{$_}->port } qw(A B) ],
    [ '/limited' . BASE, BASE, map { 'http://127.0.0.1:' . $node{$_}->port(1) } qw(A B) ],
]);

# The doors a request can take: a node straight (A, B), the balancer
# (LB); and the rate-limited vhosts (A-limited, B-limited, LB-limited).
my %door = (
    A  => sub { $node{A}->url($_[0]) },
    B  => sub { $node{B}->url($_[0]) },
    LB => sub { $lb->url(BASE . $_[0]) },
    'A-limited'  => sub { $node{A}->url($_[0], 1) },
    'B-limited'  => sub { $node{B}->url($_[0], 1) },
    'LB-limited' => sub { $lb->url('/limited' . BASE . $_[0]) },
);
my $ua = LWP::UserAgent->new(timeout => 15, keep_alive => 0);

# call(DOOR, METHOD, PATH, TOKEN, BODY, HEADERS...): the response.
sub call {
    my ($door, $method, $path, $token, $body, @h) = @_;
    my $req = HTTP::Request->new($method, $door{$door}->($path),
        [ Authorization => "Bearer $token", @h ]);
    if (defined $body) {
        $req->header('Content-Type' => 'application/json');
        $req->content(ref $body ? encode_json($body) : $body);
    }
    return $ua->request($req);
}
sub suppliers_body {
    my ($tag, $from, $to, $name) = @_;
    return { suppliers => [ map { { externalId => "$tag-$_", name => $name // 'n' } }
                            $from .. $to ] };
}
# A tenant of the test's database (the admin tool writes to MI_DB_PARAMS).
sub own_tenant { local $ENV{MI_DB_PARAMS} = $params; tenant() }
sub own_integration { local $ENV{MI_DB_PARAMS} = $params; integration(@_) }
sub rows { local $ENV{MI_DB_PARAMS} = $params; db_rows(@_) }

# ---- 1. the rate limit is one count across the nodes -----------------------

# 2N requests of one token, each through DOORS in turn: the codes and the
# X-Node of each answer, and whether every 429 had a Retry-After.
sub rate_run {
    my ($token, @doors) = @_;
    my (@codes, @nodes, $retry_ok);
    $retry_ok = 1;
    for my $i (0 .. 2 * $N - 1) {
        my $r = call($doors[$i % @doors], GET => '/suppliers', $token);
        push @codes, $r->code;
        push @nodes, $r->header('X-Node') // '-';
        $retry_ok = 0 if $r->code == 429 && ($r->header('Retry-After') // 0) < 1;
    }
    return (\@codes, \@nodes, $retry_ok);
}
my $want_codes = join ' ', ((200) x $N, (429) x $N);
for my $way ([ 'through the balancer', 'LB-limited' ],
             [ 'straight to A, B, A, B', 'A-limited', 'B-limited' ]) {
    my ($what, @doors) = @$way;
    my ($codes, $nodes, $retry_ok) = rate_run(own_tenant()->{token}, @doors);
    my $passed = grep { $_ == 200 } @$codes;
    my $refused = grep { $_ == 429 } @$codes;
    print STDERR "# rate limit $N, ", 2 * $N, " requests $what: $passed passed,"
        . " $refused refused (nodes @$nodes)\n";
    ok t_cmp("@$codes", $want_codes, "$what: exactly $N of " . 2 * $N . ' pass');
    ok t_cmp($retry_ok, 1, '...every 429 with Retry-After');
    # The balancer may start with either member; then it alternates.
    my $turns = grep { $nodes->[$_] ne $nodes->[$_ - 1] } 1 .. $#$nodes;
    my %seen = map { $_ => 1 } @$nodes;
    ok t_cmp(join(',', sort keys %seen) . " turns=$turns", 'A,B turns=' . (2 * $N - 1),
             '...answered by A and B in turn (round robin)');
}

# ---- 2. overlapping upserts through both nodes ------------------------------

# Four clients at once, each with a token of its own in one organization,
# POST the same 50 externalIds (odd clients in reverse order, so that the
# nodes' transactions take the rows' locks in opposite orders) through A,
# B and the balancer in turn, each request with names of its own.
my $org = own_tenant();
my @tokens = map { own_integration($org->{org}, "C$_")->{token} } 1 .. 4;
my $ROUNDS = 6;
my @lines = in_parallel(4, sub {
    my ($k) = @_;
    my @out;
    for my $j (1 .. $ROUNDS) {
        my $door = (qw(A B LB))[($k + $j) % 3];
        my $name = "c$k-r$j";
        my @recs = map { { externalId => "OV-$_", name => $name } } 1 .. 50;
        @recs = reverse @recs if $k % 2;
        my $r = call($door, POST => '/suppliers', $tokens[$k - 1],
                     { suppliers => \@recs });
        my $b = json_of($r);
        push @out, join ':', $r->code, $name, $b->{created} // 0, $b->{updated} // 0;
    }
    return join ' ', @out;
});
my @answers = map { [ split /:/ ] } map { split ' ' } @lines;
my %codes;
$codes{ $_->[0] }++ for @answers;
print STDERR '# overlapping writes: ', scalar @answers, ' requests of 50 records'
    . ' through A, B and the balancer: '
    . join(', ', map { "$codes{$_} x $_" } sort keys %codes), "\n";
ok t_cmp(join(' ', map { "$_=$codes{$_}" } sort keys %codes), '200=' . 4 * $ROUNDS,
         'every overlapping write succeeded (no 503 from a deadlock, no 500)');
my $created = sum(map { $_->[2] } @answers) // 0;
my $updated = sum(map { $_->[3] } @answers) // 0;
ok t_cmp($created, 50, 'each record created by exactly one request');
ok t_cmp($created + $updated, 50 * 4 * $ROUNDS, '...and updated by every other one');
my $listed = json_of(call('B', GET => '/suppliers?limit=100', $org->{token}));
ok t_cmp($listed->{total}, 50, 'the listing holds 50 records');
my @dups = rows("SELECT external_id FROM suppliers WHERE organization_id = "
    . "'$org->{org}' GROUP BY external_id HAVING count(*) > 1");
ok t_cmp(scalar @dups, 0, 'no externalId stored twice');
# Each request's write is atomic and every request wrote all 50 rows: the
# rows end with the names of one request (the last to commit), one that
# was acknowledged; a lost or torn update would mix them.
my %written = map { $_->[1] => 1 } grep { $_->[0] == 200 } @answers;
my @final = rows("SELECT name, count(*), "
    . "bool_and(updated_at >= created_at) FROM suppliers WHERE organization_id"
    . " = '$org->{org}' GROUP BY name");
print STDERR "# final names: ", join(', ', map { "$_->[0] x $_->[1]" } @final), "\n";
ok t_cmp(scalar(@final) == 1 && $final[0][1] == 50 ? 'one request' : scalar(@final) . ' names',
         'one request', 'all 50 records carry the names of one request');
ok t_cmp(scalar(grep { $written{ $_->[0] } } @final), scalar @final,
         '...an acknowledged one');
ok t_cmp(join(',', map { $_->[2] } @final), join(',', ('t') x @final),
         'updatedAt never before createdAt');
my $logs = json_of(call('A', GET => '/sync-logs?limit=1', $org->{token}));
ok t_cmp($logs->{total}, 4 * $ROUNDS, 'one sync log per request, none lost');

# ---- 3. a write through A is listed at once through B ----------------------

my $fresh = own_tenant();
call('A', POST => '/suppliers', $fresh->{token}, suppliers_body('LC', 1, 3));
# Twice on B: the second answer may come from B's listing cache.
call('B', GET => '/suppliers', $fresh->{token}) for 1 .. 2;
my $before = json_of(call('B', GET => '/suppliers', $fresh->{token}));
my $w = call('A', POST => '/suppliers', $fresh->{token},
             { suppliers => [ { externalId => 'LC-1', name => 'renamed' },
                              { externalId => 'LC-4', name => 'new' } ] });
my $after = json_of(call('B', GET => '/suppliers', $fresh->{token}));
my %name_of = map { $_->{externalId} => $_->{name} } @{ $after->{entities} || [] };
ok t_cmp(($before->{total} // '-') . ' -> ' . ($after->{total} // '-'), '3 -> 4',
         'B lists the record A created at once');
ok t_cmp($name_of{'LC-1'} // '-', 'renamed', '...and the update A wrote');
# An externalId with a slash, read back through the balancer (its %2F
# passed on as it came: AllowEncodedSlashes NoDecode, nocanon).
call('A', POST => '/suppliers', $fresh->{token},
     { suppliers => [ { externalId => 'LC/2024/5', name => 'slash' } ] });
my $one = call('LB', GET => path_of('suppliers', 'LC/2024/5'), $fresh->{token});
ok t_cmp($one->code . ' ' . (json_of($one)->{name} // '-'), '200 slash',
         'a record whose externalId has a slash, read through the balancer');

# ---- 4. an Idempotency-Key is one key on both nodes -------------------------

my $idem = own_tenant();
my $body = encode_json(suppliers_body('ID', 1, 2));
my @key = ('Idempotency-Key' => 'two-nodes-1');
my $first = call('A', POST => '/suppliers', $idem->{token}, $body, @key);
my $replay = call('B', POST => '/suppliers', $idem->{token}, $body, @key);
ok t_cmp($first->code . ' ' . $replay->code, '200 200', 'sent to A, then to B');
ok t_cmp($replay->content, $first->content, 'B replays the answer A gave, byte for byte');
ok t_cmp($replay->header('Idempotent-Replayed'), 'true', '...marked as a replay');
ok t_cmp($replay->header('X-Node'), 'B', '...by B');
my $other = call('B', POST => '/suppliers', $idem->{token},
                 suppliers_body('ID', 1, 2, 'other'), @key);
ok t_cmp($other->code, 422, 'the same key with another body on B');
ok t_cmp(json_of($other)->{error}, 'IDEMPOTENCY_KEY_REUSED', '...IDEMPOTENCY_KEY_REUSED');
ok t_cmp(json_of(call('B', GET => '/sync-logs', $idem->{token}))->{total}, 1,
         'one write in all');

# ---- 5. webhooks from both delivery threads ---------------------------------

# POST /webhook-events through a door: the webhook's id.
sub hook {
    my ($door, $token, $url) = @_;
    my $r = call($door, POST => '/webhook-events', $token,
                 { url => $url, events => ['supplier.created'] });
    die 'webhook: ' . $r->code . ' ' . $r->content unless $r->code == 201;
    return json_of($r)->{id};
}
# The delivery ids of records answered 2xx, each with how often.
sub delivered {
    my %n;
    $n{ $_->{headers}{'x-webhook-delivery'} // '' }++
        for grep { $_->{answer} =~ /^2/ } @_;
    return %n;
}
# Which node sent a request the receiver recorded (by its parent's pid).
my %pid_node = map { $node{$_}->pid => $_ } qw(A B);
sub node_of { $pid_node{ $_[0]{ppid} // 0 } // '?' }

# Every request records its sender (answer_by_start), all answered 200.
my $rx = MI::Receiver->start;
$rx->answer_by_start(0, 200, 200);
my $hooked = own_tenant();
hook('A', $hooked->{token}, $rx->url);
my $t0 = time;
# The last write's 301 events (300 records and its sync) are more than a
# turn of fan-out (100): its row is taken a part at a time, by whichever
# node comes first each time.
my @w200 = ((map { call((qw(A B LB A))[$_], POST => '/suppliers', $hooked->{token},
                        suppliers_body('WH', 50 * $_ + 1, 50 * $_ + 50))->code } 0 .. 3),
            call('B', POST => '/suppliers', $hooked->{token},
                 suppliers_body('WH', 201, 500))->code);
ok t_cmp("@w200", '200 200 200 200 200',
         '500 records written through A, B and the balancer, 300 in one write');
my @got = $rx->wait_for(sub { my %d = delivered(@_); keys %d >= 500 }, 60);
my $took = time - $t0;
sleep 1;    # a second copy would come within it
@got = $rx->requests;
my %d = delivered(@got);
my %by;
$by{ node_of($_) }++ for grep { $_->{answer} =~ /^2/ } @got;
printf STDERR "# webhooks: %d deliveries received, %d distinct ids answered 2xx, in"
    . " %.1f s (sent by %s)\n", scalar @got, scalar keys %d, $took,
    join(', ', map { "$_: $by{$_}" } sort keys %by);
ok t_cmp(scalar keys %d, 500, 'every event delivered');
ok t_cmp(scalar(grep { $d{$_} > 1 } keys %d), 0, 'no delivery received twice with a 2xx');
my %ext = map { (eval { decode_json($_->{body})->{data}{externalId} } // '') => 1 } @got;
ok t_cmp(scalar(grep { /^WH-\d+$/ } keys %ext), 500, '...one for each of the 500 records');

# A node killed (kill -9 of its parent and children) while its attempts are in
# flight: its claims' leases (the timeout, 1 s, and 5 s) end and the other
# node delivers them. Two webhooks, 8 records: 16 deliveries, every attempt
# held by a receiver that hangs (and records who sent it).
my $rx2 = MI::Receiver->start;
$rx2->answer_by_start(MI::Receiver::now_ticks() + 10**9, 'hang', 'hang');
my $killt = own_tenant();
hook('B', $killt->{token}, $rx2->url("/k$_")) for 1 .. 2;
ok t_cmp(call('LB', POST => '/suppliers', $killt->{token}, suppliers_body('KILL', 1, 8))->code,
         200, '8 records written: 16 deliveries');
@got = $rx2->wait_for(sub { my %i = map { $_->{headers}{'x-webhook-delivery'} => 1 } @_;
                            keys %i >= 16 }, 10);
# The node with attempts in flight (A if both have some).
my %held;
push @{ $held{ node_of($_) } }, $_ for @got;
my ($victim) = grep { $held{$_} } qw(A B);
$victim //= 'A';
my ($survivor) = grep { $_ ne $victim } qw(A B);
my %claimed = map { $_->{headers}{'x-webhook-delivery'} => 1 } @{ $held{$victim} || [] };
my %senders = map { $_->{pid} => 1 } grep { $_->{pid} } @{ $held{$victim} || [] };
print STDERR "# in flight: ", join(', ', map { "$_: " . scalar @{ $held{$_} } } sort keys %held),
    "; killing node $victim\'s sender(s) ", join(' ', sort keys %senders), "\n";
ok t_cmp(scalar(keys %claimed) > 0 ? 'some' : 'none', 'some',
         "node $victim has attempts in flight");
$rx2->clear;
$rx2->answer_by_start(0, 200, 200);
my $killed = time;
# The whole node goes: its parent first (so that it starts no child to
# take the work up), then every child.
my $parent = $node{$victim}->pid;
my @children = $parent ? split ' ', `pgrep -P $parent` : ();
kill 'KILL', $parent, @children, keys %senders;
my @after = $rx2->wait_for(sub { my %ok = delivered(@_);
                                 !grep { !$ok{$_} } keys %claimed }, 20);
my %ok = delivered(@after);
my ($last) = sort { $b <=> $a } map { $_->{at} }
    grep { $_->{answer} =~ /^2/ && $claimed{ $_->{headers}{'x-webhook-delivery'} } } @after;
my $recovery = defined $last ? $last - $killed : -1;
printf STDERR "# node %s killed: its %d claimed deliveries delivered %.1f s later by %s\n",
    $victim, scalar keys %claimed, $recovery,
    join(', ', sort { $a cmp $b } keys %{{ map { node_of($_) => 1 }
        grep { $claimed{ $_->{headers}{'x-webhook-delivery'} } } @after }});
ok t_cmp(scalar(grep { $ok{$_} } keys %claimed), scalar keys %claimed,
         "what node $victim had claimed is delivered");
ok t_cmp($recovery >= 3 ? 'after the lease' : sprintf('%.1f s', $recovery),
         'after the lease', '...not before its lease ended');
ok t_cmp($recovery > 0 && $recovery < 20 ? 'within 20 s' : sprintf('%.1f s', $recovery),
         'within 20 s', '...and soon after it');
my @takers = grep { $_->{answer} =~ /^2/ && $claimed{ $_->{headers}{'x-webhook-delivery'} } } @after;
ok t_cmp(join(',', sort keys %{{ map { node_of($_) => 1 } @takers }}), $survivor,
         "...by node $survivor");
# Everything else was delivered too, none twice.
@after = $rx2->wait_for(sub { my %o = delivered(@_); keys %o >= 16 }, 10);
sleep 1;
%ok = delivered($rx2->requests);
ok t_cmp(scalar keys %ok, 16, 'all 16 deliveries delivered');
ok t_cmp(scalar(grep { $ok{$_} > 1 } keys %ok), 0, '...none twice with a 2xx');

# ---- the end ----------------------------------------------------------------

$lb->stop;
$node{$_}->stop for qw(A B);
$_->stop for $rx, $rx2;
ok t_cmp(($node{A}->pid || 0) + ($node{B}->pid || 0), 0, 'both nodes stopped');
