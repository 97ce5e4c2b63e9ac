# Webhook delivery at scale (API.md section 9, "Delivery at scale"):
# attempts run concurrently, at most 8 at once per webhook and
# IntegrationWebhookConcurrency per node; a webhook whose receiver hangs
# holds up no other webhook; a delivery claimed by a child that is killed
# is taken up again when its lease (one timeout and 5 s) has ended and
# another child holds the delivery thread, not after the whole claim's
# worth of timeouts. The suite's configuration waits 1 s for
# an answer, retries after 200, 400 and 600 ms and disables a webhook after
# 6 failed attempts.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Time::HiRes qw(time sleep);
use HTTP::Request ();
use MI::Test;
use MI::DB;
use MI::Receiver;
use MI::Server;

plan tests => 17, have_lwp;

sub hook_to {
    my ($token, $url) = @_;
    return json_of(api(POST => '/webhook-events', token => $token,
                       body => { url => $url,
                                 events => ['supplier.created', 'sync.completed'] }));
}
sub suppliers {
    my ($token, $tag, $n) = @_;
    return api(POST => '/suppliers', token => $token, body => { suppliers => [
        map { { externalId => "$tag-$_", name => 'n' } } 1 .. $n ] });
}
sub ids { my %ids = map { $_->{headers}{'x-webhook-delivery'} => 1 } @_; return %ids }
# The most requests that arrived within any SPAN seconds: attempts to a
# receiver that hangs until the timeout, that were in flight at once when
# SPAN is under the timeout, however late the first of them came.
sub most_within {
    my ($span, @reqs) = @_;
    my @at = sort { $a <=> $b } map { $_->{at} } @reqs;
    my $most = 0;
    for my $i (0 .. $#at) {
        my $n = grep { $_ >= $at[$i] && $_ < $at[$i] + $span } @at;
        $most = $n if $n > $most;
    }
    return $most;
}

# A receiver that hangs and one that answers at once, a webhook each, in
# one organization: 21 deliveries each (20 records and the sync).
my $t = tenant();
my $hang = MI::Receiver->start;
$hang->answer('hang');
my $fast = MI::Receiver->start;
hook_to($t->{token}, $hang->url);
hook_to($t->{token}, $fast->url);
my $t0 = time;
ok t_cmp(suppliers($t->{token}, 'FAIR', 20)->code, 200, '20 suppliers written');
my @got = $fast->wait_for(sub { my %i = ids(@_); keys %i >= 21 }, 10);
my $took = time - $t0;
my %fast_ids = ids(@got);
ok t_cmp(scalar keys %fast_ids, 21, 'the fast receiver got its 21 deliveries');
# One at a time, as before, each of the hanging receiver's attempts held
# the thread for the whole timeout (1 s): 20 s and more.
ok t_cmp($took < 5 ? 'within 5 s' : sprintf('%.1f s', $took), 'within 5 s',
         'beside a receiver that hangs: not held up by it');
my @h = $hang->wait_for(sub { @_ >= 8 }, 5);
ok t_cmp(most_within(0.9, $hang->requests), 8,
         'the hanging receiver: 8 attempts in flight at once, no more');
my $first;

# A child killed (kill -9) while its attempts are in flight: the leases
# cover one attempt (the timeout and 5 s), so another child takes the
# deliveries up a few seconds later.
my $t3 = tenant();
my $rx = MI::Receiver->start;
# Both answers "hang", but every request records the process that sent it.
$rx->answer_by_start(MI::Receiver::now_ticks() + 10**9, 'hang', 'hang');
hook_to($t3->{token}, $rx->url);
ok t_cmp(suppliers($t3->{token}, 'KILL', 3)->code, 200, '3 suppliers written');
@got = $rx->wait_for(sub { my %i = ids(@_); keys %i >= 4 }, 5);
my %held = ids(@got);
my $server_pid = do {
    open my $fh, '<', Apache::Test::vars('t_pid_file') or die "pid file: $!";
    chomp(my $p = <$fh>);
    $p;
};
my ($sender) = map { $_->{pid} } grep { $_->{pid} } @got;
ok t_cmp(scalar keys %held, 4, 'all 4 attempts in flight at once');
ok t_cmp(($got[0]{ppid} // 0) == $server_pid ? 'a child of the server' : 'not',
         'a child of the server', 'sent by a child of the server');
$rx->answer(200);
$rx->clear;
my $killed = time;
kill 'KILL', $sender if $sender && $got[0]{ppid} == $server_pid;
@got = $rx->wait_for(sub { my %i = ids(grep { $_->{answer} eq '200' } @_);
                           keys %i >= 4 }, 30);
my @ok = grep { $_->{answer} eq '200' } @got;
my %again = ids(@ok);
my $after = @ok ? $ok[0]{at} - $killed : -1;
ok t_cmp(join(',', sort keys %again), join(',', sort keys %held),
         'the same 4 deliveries delivered after the kill');
ok t_cmp($after >= 3 ? 'after the lease' : sprintf('%.1f s', $after),
         'after the lease', 'not before their lease ended');
# Before, the lease was the whole claim's worth of timeouts and 30 s more
# (80 s here). Now it is one attempt's (6 s here); within one node the
# delivery thread moves to another child only when mod_watchdog hands its
# singleton over, which it does 10 s after the holder died (and a loaded
# machine adds some).
ok t_cmp($after > 0 && $after < 25 ? 'within 25 s' : sprintf('%.1f s', $after),
         'within 25 s', 'taken up again by another child after the hand-over');

# IntegrationWebhookConcurrency on a server and a database of this test's
# own: 3 in flight on the node, whatever the webhooks.
my $params = own_database('scale');
my $s = MI::Server->new(params => $params, conf => join "\n",
    'IntegrationWebhookAllowHttp On',
    'IntegrationWebhookAllowNetworks 127.0.0.0/8', 'IntegrationWebhookTimeout 1s',
    'IntegrationWebhookConcurrency 3', 'IntegrationRateLimit 0');
ok t_cmp($s->start, 1, 'a server of its own starts') or print STDERR $s->log_text;
my $own = do { local $ENV{MI_DB_PARAMS} = $params; tenant() };
my $held_rx = MI::Receiver->start;
$held_rx->answer('hang');
my @own_hooks;
for my $i (1 .. 2) {
    my $r = $s->ua->post($s->url('/webhook-events'),
        Authorization => "Bearer $own->{token}",
        'Content-Type' => 'application/json',
        Content => encode_json({ url => $held_rx->url("/hook$i"),
                                 events => ['supplier.created'] }));
    die 'webhook: ' . $r->code unless $r->code == 201;
    push @own_hooks, decode_json($r->content)->{id};
}
my $r = $s->ua->post($s->url('/suppliers'),
    Authorization => "Bearer $own->{token}", 'Content-Type' => 'application/json',
    Content => encode_json({ suppliers => [ map { { externalId => "C-$_", name => "c" } } 1 .. 5 ] }));
ok t_cmp($r->code, 200, '5 suppliers written there: 10 deliveries to 2 webhooks');
@h = $held_rx->wait_for(sub { @_ >= 3 }, 5);
sleep 0.5;
@h = $held_rx->requests;
ok t_cmp(most_within(0.9, @h), 3,
         'IntegrationWebhookConcurrency 3: 3 attempts in flight, no more');
my %paths = map { $_->{line} => 1 } @h;
ok t_cmp(scalar keys %paths, 2, 'shared by both webhooks');
# Gone, with their deliveries, before the next part.
for my $id (@own_hooks) {
    my $del = HTTP::Request->new(DELETE => $s->url("/webhook-events/$id"),
                                 [ Authorization => "Bearer $own->{token}" ]);
    my $code = $s->ua->request($del)->code;
    die "delete: $code" unless $code == 200;
}
$s->stop;

# A tenant that points many webhooks at receivers that hang cannot take
# the node's room: a webhook whose last attempt failed gets one attempt at
# a time, all of them together half of IntegrationWebhookConcurrency.
# Four webhooks that hang (each has failed once), then a fifth to a fast
# receiver: its delivery goes out at once, not after a timeout of 3 s.
$s = MI::Server->new(params => $params, conf => join "\n",
    'IntegrationWebhookAllowHttp On',
    'IntegrationWebhookAllowNetworks 127.0.0.0/8', 'IntegrationWebhookTimeout 3s',
    'IntegrationWebhookRetryDelays 200ms 200ms 200ms 200ms 200ms',
    'IntegrationWebhookDisableAfter 100',
    'IntegrationWebhookConcurrency 4', 'IntegrationRateLimit 0');
ok t_cmp($s->start, 1, 'a second server of its own starts') or print STDERR $s->log_text;
my $own2 = do { local $ENV{MI_DB_PARAMS} = $params; tenant() };
sub own_post {
    my ($path, $body) = @_;
    return $s->ua->post($s->url($path), Authorization => "Bearer $own2->{token}",
        'Content-Type' => 'application/json', Content => encode_json($body));
}
$held_rx->clear;
own_post('/webhook-events', { url => $held_rx->url("/h$_"), events => ['supplier.created'] })
    for 1 .. 4;
own_post('/suppliers', { suppliers => [ map { { externalId => "H-$_", name => 'h' } } 1 .. 3 ] });
@h = $held_rx->wait_for(sub { @_ >= 4 }, 5);
$first = @h ? $h[0]{at} : 0;
sleep 3.5;    # their first attempts have failed; retries are due
my $fast2 = MI::Receiver->start;
own_post('/webhook-events', { url => $fast2->url, events => ['supplier.created'] });
my $posted = time;
own_post('/suppliers', { suppliers => [ { externalId => 'F-1', name => 'f' } ] });
@got = $fast2->wait_for(sub { @_ >= 1 }, 10);
my $delay = @got ? $got[0]{at} - $posted : 99;
# At once: well before one of the hanging attempts' 3 s could free room.
ok t_cmp($delay < 2.5 ? 'at once' : sprintf('%.1f s', $delay), 'at once',
         'a fast webhook beside four that hang, on a node of 4');
@h = $held_rx->requests;
# No more than 2 of the failing webhooks' attempts overlap at any time
# after their first round (each holds its connection for the 3 s timeout).
my @later = grep { $_->{at} > $first + 2.9 } @h;
my $max = 0;
for my $a (@later) {
    my $n = grep { $_->{at} <= $a->{at} && $_->{at} > $a->{at} - 2.9 } @later;
    $max = $n if $n > $max;
}
ok t_cmp($max <= 2 ? 'at most 2' : $max, 'at most 2',
         'the failing webhooks share half of the concurrency');
$s->stop;
$fast2->stop;
$_->stop for $hang, $fast, $rx, $held_rx;
drop_database($params);
