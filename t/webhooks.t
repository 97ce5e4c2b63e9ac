# Webhooks (API.md section 9): management and its validation, isolation,
# signed deliveries of every event type from the outbox, retries, disabling,
# 410, timeouts, the test endpoint, no duplicates with several children,
# and deliveries resumed after a graceful restart. The test configuration
# allows http, waits 1 s, retries after 200, 400 and 600 ms, and disables a
# webhook after 6 failed attempts.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Digest::SHA qw(hmac_sha256_hex hmac_sha256);
use MIME::Base64 qw(decode_base64 encode_base64);
use Time::HiRes qw(sleep);
use MI::Test;
use MI::Receiver;

plan tests => 99, have_lwp;

my $t = tenant();
my $tok = $t->{token};
my $rx = MI::Receiver->start;

sub hooks { api($_[0], '/webhook-events' . ($_[1] // ''), token => $tok,
                 ($_[2] ? (body => $_[2]) : ())) }
sub events_of { map { decode_json($_->{body}) } @_ }
sub named { my $name = shift; grep { $_->{headers}{'x-webhook-event'} eq $name } @_ }
# A condition for wait_for: every one of the events named has arrived, a
# name given N times N times (as different deliveries). (Events fanned out
# in one tick share their due time: their order is not defined, so waiting
# for the last one sent proves nothing of the others; and a phase of the
# test ends, and the receiver is cleared, only once all of its events are
# in, so that none of them lands in the next.)
sub all_of {
    my %want;
    $want{$_}++ for @_;
    return sub {
        my @got = @_;
        for my $name (keys %want) {
            my %ids = map { $_->{headers}{'x-webhook-delivery'} => 1 }
                      named($name, @got);
            return 0 if keys %ids < $want{$name};
        }
        return 1;
    };
}
# Polls $get->() (at most $timeout seconds) until $done->(its value) is
# true; returns the last value.
sub poll {
    my ($get, $done, $timeout) = @_;
    my $until = Time::HiRes::time() + ($timeout // 5);
    my $v = $get->();
    until ($done->($v) || Time::HiRes::time() >= $until) {
        sleep 0.1;
        $v = $get->();
    }
    return $v;
}
# The record of a delivery in GET .../deliveries, once its outcome is
# recorded (the receiver logs a request before it answers, and the module
# records the answer after that).
sub settled {
    my ($hook_id, $match, $timeout) = @_;
    return poll(sub {
        my $dl = json_of(hooks(GET => "/$hook_id/deliveries"));
        (grep { $match->($_) } @{ $dl->{data} || [] })[0];
    }, sub { $_[0] && $_[0]{status} ne 'PENDING' }, $timeout);
}

# Validation.
for my $case ([ { url => 'ftp://x/', events => ['supplier.created'] },
                'url must be an absolute http or https URL' ],
              [ { url => '/relative', events => ['supplier.created'] },
                'url must be an absolute http or https URL' ],
              [ { url => 'http:///nohost', events => ['supplier.created'] },
                'url must be an absolute URL with a host' ],
              [ { events => ['supplier.created'] },
                'url is required and must be a string' ],
              [ { url => $rx->url, events => [] },
                'events must be a non-empty array of event names' ],
              [ { url => $rx->url, events => 'supplier.created' },
                'events must be a non-empty array of event names' ],
              [ { url => $rx->url, events => ['supplier.exploded'] },
                'Unknown event "supplier.exploded"' ],
              [ { url => $rx->url, events => ['sync.failed', 'sync.failed'] },
                'Duplicate event "sync.failed"' ],
              [ { url => 'https://h/' . ('x' x 2040), events => ['sync.failed'] },
                'url must be at most 2048 characters' ]) {
    my $r = hooks(POST => '', $case->[0]);
    ok t_cmp($r->code, 400, "400: $case->[1]");
    ok t_cmp(json_of($r)->{message}, $case->[1], 'message');
}
my $r = hooks(POST => '', { url => 'https://example.invalid/hook',
                            events => ['sync.failed'] });
ok t_cmp($r->code, 201, 'https URL accepted');
my $https_id = json_of($r)->{id};
hooks(DELETE => "/$https_id");

# Create, read, list: the secret is shown once.
my @all_events = qw(supplier.created supplier.updated supplier.deleted
    product.created product.updated product.deleted batch.created
    batch.updated batch.deleted sync.completed sync.failed
    dds.status_changed dds.submitted dds.approved);
$r = hooks(POST => '', { url => $rx->url, events => \@all_events });
my $hook = json_of($r);
ok t_cmp($r->code, 201, 'webhook created');
ok t_cmp($hook->{id}, qr/^wh_/, 'wh_ id');
ok t_cmp($hook->{secret}, qr/^whsec_[A-Za-z0-9+\/]{43}=$/, 'whsec_ secret');
ok is_json($hook->{active}, JSON::PP::true(), 'active');
my $secret = $hook->{secret};
my $got = json_ok(hooks(GET => "/$hook->{id}"));
ok is_absent($got, 'secret', 'the secret is never shown again');
ok t_cmp(json_of(hooks(GET => ''))->{total}, 1, 'listed');

# Another integration of the same organization, and another organization.
my $tok2 = integration($t->{org}, 'WMS')->{token};
ok t_cmp(api(GET => "/webhook-events/$hook->{id}", token => $tok2)->code, 404,
         "another integration's token gets 404");
ok t_cmp(json_of(api(GET => '/webhook-events', token => $tok2))->{total}, 0,
         'and does not list it');
my $o = tenant();
ok t_cmp(api(DELETE => "/webhook-events/$hook->{id}",
             token => $o->{token})->code, 404, 'another organization: 404');
my $rx_other = MI::Receiver->start;
api(POST => '/webhook-events', token => $o->{token},
    body => { url => $rx_other->url, events => \@all_events });

# A created supplier: supplier.created and sync.completed, signed.
api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'V-1', name => 'one' } ] });
my @got = $rx->wait_for(all_of(qw(supplier.created sync.completed)), 5);
ok t_cmp(scalar @got, 2, 'two deliveries within seconds');
my ($created) = named('supplier.created', @got);
my ($sync) = named('sync.completed', @got);
ok $created && $sync;
my $h = $created->{headers};
ok t_cmp($created->{line}, 'POST /hook HTTP/1.1', 'POST to the URL');
ok t_cmp($h->{'content-type'}, 'application/json', 'Content-Type');
ok t_cmp($h->{'user-agent'}, 'EUDR-Platform-Webhook/1.0', 'User-Agent');
ok t_cmp($h->{'x-webhook-id'}, $hook->{id}, 'X-Webhook-Id');
ok t_cmp($h->{'x-webhook-timestamp'}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
         'X-Webhook-Timestamp');
ok t_cmp($h->{'x-webhook-delivery'}, $h->{'webhook-id'},
         'webhook-id is the delivery id');
my $key = decode_base64(substr($secret, 6));
ok t_cmp($h->{'x-webhook-signature'}, 'sha256=' . hmac_sha256_hex(
         "$h->{'x-webhook-timestamp'}.$created->{body}", $key),
         'X-Webhook-Signature verifies');
ok t_cmp($h->{'webhook-signature'}, 'v1,' . encode_base64(hmac_sha256(
         "$h->{'webhook-id'}.$h->{'webhook-timestamp'}.$created->{body}", $key),
         ''), 'Standard Webhooks signature verifies');
my ($body) = events_of($created);
ok t_cmp($body->{event}, 'supplier.created', 'body event');
ok t_cmp($body->{integrationId}, $t->{integration}, 'body integrationId');
ok t_cmp($body->{timestamp}, $h->{'x-webhook-timestamp'}, 'body timestamp');
ok t_cmp($body->{data}{externalId}, 'V-1', 'data.externalId');
ok t_cmp($body->{data}{internalId}, qr/^c/, 'data.internalId');
my ($sbody) = events_of($sync);
ok t_cmp(join(',', map { "$_=$sbody->{data}{$_}" } sort keys %{ $sbody->{data} }),
         'created=1,entityType=SUPPLIER,errors=0,updated=0', 'sync.completed data');
ok t_cmp(scalar $rx_other->connections, 0, "another organization's webhook got nothing");

# Updated, partial (sync.failed), deleted; a fully invalid request: its
# sync.failed alone.
$rx->clear;
api(POST => '/suppliers', token => $tok, body => { suppliers => [
    { externalId => 'V-1', name => 'uno' }, { externalId => 'V-BAD' } ] });
@got = $rx->wait_for(all_of(qw(supplier.updated sync.failed)), 5);
ok t_cmp(scalar named('supplier.updated', @got), 1, 'supplier.updated');
my ($failed) = events_of(named('sync.failed', @got));
ok t_cmp($failed->{data}{errors}, 1, 'sync.failed counts the errors');
$rx->clear;
api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'V-BAD' }, { externalId => 'V-BAD2' } ] });
@got = $rx->wait_for(all_of('sync.failed'), 5);
sleep 1;
@got = $rx->requests;
ok t_cmp(join(',', map { $_->{headers}{'x-webhook-event'} } @got), 'sync.failed',
         'a request whose every record failed queues sync.failed and nothing else');
($failed) = events_of(@got);
ok t_cmp(join(',', map { "$_=$failed->{data}{$_}" } sort keys %{ $failed->{data} }),
         'created=0,entityType=SUPPLIER,errors=2,updated=0', 'its counts');
$rx->clear;
api(DELETE => '/suppliers/V-1', token => $tok);
@got = $rx->wait_for(all_of('supplier.deleted'), 5);
ok t_cmp($got[0]{headers}{'x-webhook-event'}, 'supplier.deleted', 'supplier.deleted');

# Updates and deletes of products and batches.
$rx->clear;
api(POST => '/products', token => $tok,
    body => { products => [ { externalId => 'P-U', name => 'p' } ] });
api(POST => '/batches', token => $tok, body => { batches => [
    { externalId => 'B-U', productExternalId => 'P-U', batchNumber => 'b' } ] });
api(POST => '/products', token => $tok,
    body => { products => [ { externalId => 'P-U', name => 'p2' } ] });
api(POST => '/batches', token => $tok, body => { batches => [
    { externalId => 'B-U', productExternalId => 'P-U', batchNumber => 'b2' } ] });
api(DELETE => '/batches/B-U', token => $tok);
api(DELETE => '/products/P-U', token => $tok);
# Every event of the six requests: four syncs, each with its record's event,
# and the two deletes.
@got = $rx->wait_for(all_of(qw(product.created batch.created product.updated
                               batch.updated batch.deleted product.deleted),
                            ('sync.completed') x 4), 5);
for my $name (qw(product.updated batch.updated batch.deleted product.deleted)) {
    my ($e) = events_of(named($name, @got));
    ok t_cmp($e && $e->{data}{externalId}, $name =~ /^product/ ? 'P-U' : 'B-U',
             "$name with its externalId");
}

# A refused (rolled-back) delete queues nothing.
$rx->clear;
api(POST => '/products', token => $tok,
    body => { products => [ { externalId => 'P-0', name => 'p' } ] });
api(POST => '/batches', token => $tok, body => { batches => [
    { externalId => 'B-0', productExternalId => 'P-0', batchNumber => 'b' } ] });
# Every event of the two writes (each also completes a sync), so that
# none arrives after the clear.
$rx->wait_for(all_of(qw(product.created batch.created),
                     ('sync.completed') x 2), 5);
$rx->clear;
ok t_cmp(api(DELETE => '/products/P-0', token => $tok)->code, 409,
         'a refused delete');
sleep 1;
ok t_cmp(scalar $rx->connections, 0, 'a rolled-back write queues no event');

# Products, batches and DDS status changes.
$rx->clear;
api(POST => '/products', token => $tok,
    body => { products => [ { externalId => 'P-1', name => 'p' } ] });
api(POST => '/batches', token => $tok, body => { batches => [
    { externalId => 'B-1', productExternalId => 'P-1', batchNumber => 'b' } ] });
@got = $rx->wait_for(all_of(qw(product.created batch.created),
                            ('sync.completed') x 2), 5);
ok t_cmp(scalar named('product.created', @got), 1, 'product.created');
ok t_cmp(scalar named('batch.created', @got), 1, 'batch.created');
$rx->clear;
admin('dds', 'set-status', '--org', $t->{org}, 'B-1', 'SUBMITTED');
@got = $rx->wait_for(all_of(qw(dds.status_changed dds.submitted)), 5);
my ($changed) = events_of(named('dds.status_changed', @got));
ok t_cmp($changed->{data}{newStatus}, 'SUBMITTED', 'dds.status_changed');
ok is_null($changed->{data}, 'previousStatus', 'no previous status');
ok t_cmp(scalar named('dds.submitted', @got), 1, 'dds.submitted');
$rx->clear;
admin('dds', 'set-status', '--org', $t->{org}, 'B-1', 'APPROVED');
@got = $rx->wait_for(all_of(qw(dds.status_changed dds.approved)), 5);
ok t_cmp((events_of(named('dds.status_changed', @got)))[0]{data}{previousStatus},
         'SUBMITTED', 'previousStatus');
ok t_cmp(scalar named('dds.approved', @got), 1, 'dds.approved');

# Retries: 500 four times (1 + 3 retries), one delivery id, then FAILED.
ok t_cmp(hooks(PATCH => "/$hook->{id}", { events => ['supplier.created'] })
         ->code, 200, 'events changed');
$rx->clear;
$rx->answer(500);
api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'R-1', name => 'r' } ] });
@got = $rx->wait_for(sub { named('supplier.created', @_) >= 4 }, 8);
my @tries = named('supplier.created', @got);
ok t_cmp(scalar @tries, 4, 'four attempts');
my %ids = map { $_->{headers}{'x-webhook-delivery'} => 1 } @tries;
ok t_cmp(scalar keys %ids, 1, 'the same X-Webhook-Delivery on every retry');
my @gaps = map { $tries[$_]{at} - $tries[$_ - 1]{at} } 1 .. 3;
ok t_cmp($gaps[0] >= 0.15 && $gaps[1] >= 0.35 && $gaps[2] >= 0.55, 1,
         'retried after the configured delays');
my ($rec) = settled($hook->{id}, sub { $_[0]{id} eq (keys %ids)[0] });
ok t_cmp($rec->{status}, 'FAILED', 'delivery FAILED after the retries');
ok t_cmp($rec->{attempts}, 4, 'attempts recorded');
ok t_cmp($rec->{lastStatusCode}, 500, 'last status code');

# Consecutive failures disable the webhook (6 here); re-activation resets.
$got = json_of(hooks(GET => "/$hook->{id}"));
ok t_cmp($got->{failureCount}, 4, 'failures counted');
$rx->clear;
api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'R-1b', name => 'r' } ] });
@got = $rx->wait_for(sub { named('supplier.created', @_) >= 2 }, 5);
sleep 1;
ok t_cmp(scalar $rx->requests, 2, 'two more attempts reach the limit');
ok is_json(json_of(hooks(GET => "/$hook->{id}"))->{active}, JSON::PP::false(),
         'disabled after 6 failures');
$rx->clear;
api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'R-2', name => 'r' } ] });
sleep 1;
ok t_cmp(scalar $rx->connections, 0, 'a disabled webhook receives nothing');
$rx->answer(200);
$got = json_of(hooks(PATCH => "/$hook->{id}", { active => JSON::PP::true() }));
ok is_json($got->{active}, JSON::PP::true(), 're-activated');
ok t_cmp($got->{failureCount}, 0, 'failure count reset');

# 410 Gone disables at once.
$rx->clear;
$rx->answer(410);
api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'G-1', name => 'g' } ] });
@got = $rx->wait_for(all_of('supplier.created'), 5);
sleep 1;
ok t_cmp(scalar named('supplier.created', $rx->requests), 1, '410: no retry');
ok is_json(json_of(hooks(GET => "/$hook->{id}"))->{active}, JSON::PP::false(),
         '410 disables');
$rx->answer(200);
hooks(PATCH => "/$hook->{id}", { active => JSON::PP::true() });

# A receiver that does not answer in time.
$rx->clear;
$rx->answer('hang');
api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'H-1', name => 'h' } ] });
$rx->wait_for(all_of('supplier.created'), 5);
# The attempt fails when the module's timeout (1 s) ends.
poll(sub { json_of(hooks(GET => "/$hook->{id}"))->{failureCount} },
     sub { ($_[0] // 0) >= 1 }, 5);
ok t_cmp(json_of(hooks(GET => "/$hook->{id}"))->{failureCount} >= 1, 1,
         'a timeout counts as a failure');
$rx->answer(200);
@got = $rx->wait_for(sub { grep { $_->{answer} eq '200' } @_ }, 8);
ok t_cmp(scalar @got >= 2, 1, 'retried after the timeout');
($rec) = settled($hook->{id}, sub { $_[0]{event} eq 'supplier.created' });
ok t_cmp($rec->{status}, 'DELIVERED', 'then delivered');
ok t_cmp($rec->{attempts} >= 2, 1, 'after more than one attempt');
ok t_cmp($rec->{lastStatusCode}, 200, 'with the status it was answered with');
ok t_cmp(json_of(hooks(GET => "/$hook->{id}"))->{failureCount}, 0,
         'a delivery clears the failure count');

# The test endpoint.
$rx->clear;
$r = hooks(POST => "/$hook->{id}/test");
my $res = json_of($r);
ok is_json($res->{success}, JSON::PP::true(), 'test delivery succeeded');
ok t_cmp($res->{statusCode}, 200, 'status code');
ok t_cmp($res->{event}, 'webhook.test', 'event');
@got = $rx->requests;
ok t_cmp($got[0]{headers}{'x-webhook-event'}, 'webhook.test', 'received');

# Rotation: later deliveries are signed with the new secret.
my $rot = json_of(hooks(POST => "/$hook->{id}/rotate-secret"));
ok t_cmp($rot->{secret} ne $secret && $rot->{secret} =~ /^whsec_/ ? 1 : 0, 1,
         'a new secret');
$rx->clear;
api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'K-1', name => 'k' } ] });
@got = $rx->wait_for(all_of('supplier.created'), 5);
my $k2 = decode_base64(substr($rot->{secret}, 6));
ok t_cmp($got[0]{headers}{'x-webhook-signature'}, 'sha256=' . hmac_sha256_hex(
         "$got[0]{headers}{'x-webhook-timestamp'}.$got[0]{body}", $k2),
         'signed with the new secret');

# Many events, several child processes: each delivery arrives once.
$rx->clear;
for my $i (1 .. 8) {
    api(POST => '/suppliers', token => $tok, body => { suppliers => [
        map { { externalId => "M-$i-$_", name => 'm' } } 1 .. 10 ] });
}
@got = $rx->wait_for(all_of(('supplier.created') x 80), 15);
sleep 1;    # for any that would arrive twice
@got = $rx->requests;
my %seen;
$seen{ $_->{headers}{'x-webhook-delivery'} }++ for @got;
ok t_cmp(scalar keys %seen, 80, 'all 80 deliveries arrived');
ok t_cmp(scalar(twice_sent($tok, $hook->{id}, %seen)), 0,
         'no attempt twice');

# Pending deliveries survive a graceful restart, and the new generation
# sends them. The receiver answers nothing in time (a failed attempt) to a
# process that started before the restart was signalled, 200 to one that
# started after it, and records which process sent each attempt: so the
# attempt that succeeds cannot come from a child of the old generation
# finishing its work, and the test says which child sent it.
$rx->clear;
my $server_pid = do {
    open my $fh, '<', Apache::Test::vars('t_pid_file') or die "pid file: $!";
    chomp(my $p = <$fh>);
    $p;
};
my $error_log = Apache::Test::vars('t_logs') . '/error_log';
my $log_at = -s $error_log // 0;
# Until then every sender counts as of before the restart.
$rx->answer_by_start('9' x 18, 'hang', 200);
api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'GR-1', name => 'g' } ] });
$rx->wait_for(all_of('supplier.created'), 5);
my $restart = MI::Receiver::now_ticks();
$rx->answer_by_start($restart, 'hang', 200);
my $conf = Apache::Test::vars('t_conf_file');
system($ENV{MI_HTTPD}, '-f', $conf, '-k', 'graceful') == 0
    or die "graceful restart failed";
@got = $rx->wait_for(sub { grep { $_->{answer} eq '200' } @_ }, 15);
my ($first, $done) = ($got[0] || {}, (grep { $_->{answer} eq '200' } @got)[0] || {});
sub child_of {
    my ($rq) = @_;
    return 'no request' unless $rq->{line};
    return 'a process not of the server'
        unless ($rq->{ppid} // 0) == $server_pid;
    return ($rq->{started} // 0) > $restart ? 'new child' : 'old child';
}
ok t_cmp(($first->{answer} // '') . ' / ' . child_of($first),
         'hang / old child',
         'pending at the restart: an attempt from the old generation failed');
ok t_cmp(scalar(grep { $_->{answer} eq '200' } @got), 1,
         'delivered after the restart');
ok t_cmp(child_of($done), 'new child',
         'by a child of the new generation');
ok t_cmp(scalar(keys %{ { map { $_->{headers}{'x-webhook-delivery'} => 1 } @got } }),
         1, 'as the same delivery');
my $since = do {
    open my $fh, '<', $error_log or die "error_log: $!";
    seek $fh, $log_at, 0;
    local $/;
    <$fh> // '';
};
ok t_cmp($since, qr/SIGUSR1 received.*graceful restart.*resuming normal operations/s,
         'the graceful restart took place');

# Delete: gone, for this integration.
ok t_cmp(hooks(DELETE => "/$hook->{id}")->code, 200, 'deleted');
ok t_cmp(hooks(GET => "/$hook->{id}")->code, 404, 'gone');
$rx->stop;
$rx_other->stop;
