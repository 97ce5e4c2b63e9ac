# Webhook management (API.md section 9, "Secret rotation" and
# "Redelivery"): rotate-secret with an overlap, every signature verified
# here with both secrets (webhook-signature v1,<new> v1,<old> while it
# lasts, X-Webhook-Signature with the new one only), on queued deliveries
# and on /test; overlap 0 and an ended overlap give one signature; bad
# bodies 400. Redelivery: 202, the same delivery id again, attempts
# counted afresh, 409 while pending (waiting or in flight), 404 for what
# the caller has no such delivery of, a webhook not active keeps it until
# it is active again. The deliveries listing: newest first, its members,
# status filter, pages and totals, 400 on a bad status. No secret of a
# rotation is ever answered or logged. Every wait has a deadline (the test
# configuration: timeout 1 s, retries after 200, 400, 600 ms).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Digest::SHA qw(hmac_sha256_hex hmac_sha256);
use MIME::Base64 qw(decode_base64 encode_base64);
use Time::HiRes qw(sleep time);
use Time::Local qw(timegm);
use IO::Socket::INET ();
use URI ();
use MI::Test;
use MI::Receiver;
use MI::Schema;

plan tests => 101, have_lwp;

my $t = tenant(name => 'Webhook management');
my $tok = $t->{token};
my $rx = MI::Receiver->start;
my $schema = MI::Schema->new(json_of(api(GET => '/openapi.json')));
my @secrets;    # every secret seen: none may be answered later, or logged

sub hooks {
    my ($method, $path, %o) = @_;
    return api($method, '/webhook-events' . $path, token => $o{token} // $tok,
               (exists $o{body} ? (body => $o{body}) : ()),
               headers => $o{headers} // {});
}
sub error_of { my $b = json_of($_[0]); join ' ', $_[0]->code, $b->{error} // '', $b->{message} // '' }
# The response matches the OpenAPI document's schema for it.
sub documented {
    my ($label, $path, $method, $res) = @_;
    my $s = $schema->response_schema($path, $method, $res->code);
    ok t_cmp($s ? join('; ', $schema->check($s, json_of($res)))
                : 'status ' . $res->code . ' not documented', '',
             "$label: as docs/openapi.json says");
}
# Polls $get->() until $done->(its value), at most $timeout seconds.
sub poll {
    my ($get, $done, $timeout) = @_;
    my $until = time + ($timeout // 5);
    my $v = $get->();
    until ($done->($v) || time >= $until) {
        sleep 0.1;
        $v = $get->();
    }
    return $v;
}
sub iso_epoch {
    my ($iso) = @_;
    my @f = ($iso // '') =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.\d{3}Z$/
        or return 0;
    return timegm($f[5], $f[4], $f[3], $f[2], $f[1] - 1, $f[0]);
}
sub near { abs($_[0] - $_[1]) <= 60 ? 1 : 0 }

# Signatures, as a receiver computes them.
sub key_of { decode_base64(substr($_[0], 6)) }
sub v1_with {
    my ($rq, $secret) = @_;
    my $h = $rq->{headers};
    return 'v1,' . encode_base64(hmac_sha256(
        "$h->{'webhook-id'}.$h->{'webhook-timestamp'}.$rq->{body}",
        key_of($secret)), '');
}
sub sha256_with {
    my ($rq, $secret) = @_;
    return 'sha256=' . hmac_sha256_hex(
        "$rq->{headers}{'x-webhook-timestamp'}.$rq->{body}", key_of($secret));
}
sub signature_of { $_[0]{headers}{'webhook-signature'} // '(none)' }

# Writes a supplier; its supplier.created as received (within 5 s).
my $n = 0;
sub one_delivery {
    my $ext = 'S-' . ++$n;
    my $mine = sub { grep { ($_->{body} // '') =~ /"\Q$ext\E"/ } @_ };
    $rx->clear;
    api(POST => '/suppliers', token => $tok,
        body => { suppliers => [ { externalId => $ext, name => 'n' } ] });
    return ($mine->($rx->wait_for($mine, 5)))[0] // { headers => {} };
}
sub rotate { hooks(POST => "/$_[0]/rotate-secret", @_[1 .. $#_]) }

my $r = hooks(POST => '', body => { url => $rx->url,
                                    events => [ 'supplier.created' ] });
my $hook = json_of($r);
my $id = $hook->{id} // 'none';
push @secrets, $hook->{secret} // '';
ok t_cmp($r->code, 201, 'a webhook');

# ---- Rotation with an overlap ---------------------------------------------
$r = rotate($id, body => { overlapSeconds => 3600 });
my $rot = json_of($r);
ok t_cmp($r->code, 200, 'rotated with an overlap of an hour');
documented('rotate', '/webhook-events/{id}/rotate-secret', 'post', $r);
ok t_cmp(join(',', sort keys %$rot), 'id,previousSecretExpiresAt,secret',
         'the answer: id, secret, previousSecretExpiresAt');
ok t_cmp(($rot->{secret} // '') =~ /^whsec_/ && $rot->{secret} ne $secrets[0]
         ? 1 : 0, 1, 'a new secret');
ok t_cmp(near(iso_epoch($rot->{previousSecretExpiresAt}), time + 3600), 1,
         'the old one signs for an hour more');
push @secrets, $rot->{secret} // '';
my ($old, $new) = @secrets[0, 1];
my $rq = one_delivery();
ok t_cmp(signature_of($rq), v1_with($rq, $new) . ' ' . v1_with($rq, $old),
         'webhook-signature: v1,<new> v1,<old>, each verifies with its secret');
ok t_cmp($rq->{headers}{'x-webhook-signature'}, sha256_with($rq, $new),
         'X-Webhook-Signature: the new secret');
$rx->clear;
$r = hooks(POST => "/$id/test");
ok is_json(json_of($r)->{success}, JSON::PP::true(), 'a test delivery');
($rq) = grep { $_->{headers}{'x-webhook-event'} eq 'webhook.test' }
        $rx->requests;
$rq //= { headers => {} };
ok t_cmp(signature_of($rq), v1_with($rq, $new) . ' ' . v1_with($rq, $old),
         '/test is signed with both');
ok t_cmp($rq->{headers}{'x-webhook-signature'}, sha256_with($rq, $new),
         '/test: X-Webhook-Signature with the new one');

# No body, or an empty one: the default overlap, a day. The secret just
# replaced is the one kept.
for my $case ([ 'no body', {} ],
              [ 'an empty body', { body => '' } ],
              [ 'an empty object', { body => {} } ]) {
    my ($label, $how) = @{$case};
    $r = rotate($id, %$how);
    $rot = json_of($r);
    ok t_cmp($r->code, 200, "$label: rotated");
    ok t_cmp(near(iso_epoch($rot->{previousSecretExpiresAt}), time + 86400),
             1, "$label: the old secret signs for a day");
    push @secrets, $rot->{secret} // '';
}
# A body announced and empty (chunked, no Content-Type), as an HTTP/2
# request may come when its end is a DATA frame of its own: no body.
{
    my $u = URI->new(url_of("/webhook-events/$id/rotate-secret"));
    my $sock = IO::Socket::INET->new(PeerAddr => $u->host_port, Timeout => 10)
        or die "connect: $!";
    print $sock 'POST ' . $u->path_query . " HTTP/1.1\r\nHost: " . $u->host_port
        . "\r\nAuthorization: Bearer $tok\r\nTransfer-Encoding: chunked\r\n"
        . "Connection: close\r\n\r\n0\r\n\r\n";
    my $answer = do { local $/; <$sock> } // '';
    my ($code) = $answer =~ m{^HTTP/1\.1 (\d+)};
    my ($secret) = $answer =~ /"secret":"([^"]+)"/;
    ok t_cmp($code // 'none', 200, 'an announced, empty body: rotated, as no body');
    push @secrets, $secret // '';
}
$rq = one_delivery();
ok t_cmp(signature_of($rq), v1_with($rq, $secrets[-1]) . ' '
         . v1_with($rq, $secrets[-2]),
         'the secret the last rotation replaced signs too, and only it');

# Overlap 0: one signature.
$r = rotate($id, body => { overlapSeconds => 0 });
$rot = json_of($r);
ok t_cmp($r->code, 200, 'overlapSeconds 0: rotated');
ok is_null($rot, 'previousSecretExpiresAt', 'previousSecretExpiresAt null');
push @secrets, $rot->{secret} // '';
$rq = one_delivery();
ok t_cmp(signature_of($rq), v1_with($rq, $secrets[-1]),
         'overlapSeconds 0: one signature, with the new secret');
ok t_cmp($rq->{headers}{'x-webhook-signature'}, sha256_with($rq, $secrets[-1]),
         'and X-Webhook-Signature with it');

# An overlap that has ended: one signature.
$r = rotate($id, body => { overlapSeconds => 1 });
my $rotated_at = time;
push @secrets, json_of($r)->{secret} // '';
sleep 0.1 while time < $rotated_at + 1.3;
$rq = one_delivery();
ok t_cmp(signature_of($rq), v1_with($rq, $secrets[-1]),
         'after the overlap: one signature, with the new secret');

# Bad bodies: 400, and nothing rotated.
for my $case ([ '{"overlapSeconds":"3600"}', 'a string' ],
              [ '{"overlapSeconds":-1}', 'negative' ],
              [ '{"overlapSeconds":604801}', 'over a week' ],
              [ '{"overlapSeconds":1.5}', 'a fraction' ],
              [ '{"overlapSeconds":3600.0}', 'a real' ],
              [ '{"overlapSeconds":null}', 'null' ],
              [ '{"overlapSeconds":true}', 'a boolean' ],
              [ '{"overlapSeconds":[60]}', 'an array' ],
              [ '{"overlapSeconds":1e3}', 'with an exponent' ],
              [ '{"overlapSeconds":9223372036854775807}', 'the largest integer' ]) {
    my ($body, $label) = @$case;
    $r = rotate($id, body => $body);
    ok t_cmp(error_of($r), '400 VALIDATION_ERROR overlapSeconds must be an '
             . 'integer from 0 to 604800', "overlapSeconds $label: 400");
}
ok t_cmp(error_of(rotate($id, body => '[3600]')),
         '400 INVALID_JSON Request body must be a JSON object',
         'a body that is no object: 400, as every body');
ok t_cmp(error_of(rotate($id, body => '{"overlapSeconds":')),
         '400 INVALID_JSON Request body is not valid JSON (or has duplicate keys)',
         'a body that is no JSON: 400');
ok t_cmp(rotate($id, body => '{}', headers => { 'Content-Type' => 'text/plain' })
         ->code, 415, 'a body that is not application/json: 415');
documented('rotate 400', '/webhook-events/{id}/rotate-secret', 'post',
           rotate($id, body => { overlapSeconds => -1 }));
$rq = one_delivery();
ok t_cmp($rq->{headers}{'x-webhook-signature'}, sha256_with($rq, $secrets[-1]),
         'a refused rotation changes nothing');
ok t_cmp(error_of(rotate('wh_none', body => { overlapSeconds => 60 })),
         '404 NOT_FOUND No webhook found with id "wh_none"',
         'an unknown webhook: 404');
my $sibling = integration($t->{org}, 'WMS');
ok t_cmp(rotate($id, token => $sibling->{token})->code, 404,
         "another integration's token: 404");

# ---- Redelivery -------------------------------------------------------------
sub redeliver { hooks(POST => "/$_[0]/deliveries/$_[1]/redeliver",
                      @_[2 .. $#_]) }
sub delivery_of {
    my ($hook_id, $did) = @_;
    my $list = json_of(hooks(GET => "/$hook_id/deliveries?limit=100"));
    return (grep { $_->{id} eq $did } @{ $list->{data} || [] })[0] // {};
}
sub settled {
    my ($hook_id, $did, $timeout) = @_;
    return poll(sub { delivery_of($hook_id, $did) },
                sub { ($_[0]{status} // 'PENDING') ne 'PENDING' }, $timeout);
}
sub arrived_again {
    my ($did, $timeout) = @_;
    my $same = sub { grep { ($_->{headers}{'x-webhook-delivery'} // '') eq $did } @_ };
    return ($same->($rx->wait_for($same, $timeout // 5)))[0] // { headers => {} };
}

# Answered 500 at first: waiting for its retry, it is pending.
$rx->answer(500);
$rq = one_delivery();
my $did = $rq->{headers}{'x-webhook-delivery'} // 'none';
$r = redeliver($id, $did);
ok t_cmp(error_of($r), qq{409 CONFLICT Delivery "$did" is still pending; it }
         . 'can be redelivered once it is DELIVERED or FAILED',
         'a delivery waiting for its retry: 409');
documented('redeliver 409', '/webhook-events/{id}/deliveries/{deliveryId}/redeliver',
           'post', $r);
$rx->answer(200);
my $rec = settled($id, $did, 5);
ok t_cmp(join(' ', $rec->{status} // '', $rec->{attempts} // ''),
         'DELIVERED 2', 'then delivered, at the second attempt');

# In flight: pending too; attempts start again at 0.
$rx->clear;
$rx->answer('hang');
$r = redeliver($id, $did);
ok t_cmp($r->code, 202, 'a delivered one: 202');
ok is_json(json_of($r), { deliveryId => $did, status => 'PENDING' },
           '{ deliveryId, status: PENDING }');
documented('redeliver', '/webhook-events/{id}/deliveries/{deliveryId}/redeliver',
           'post', $r);
$rq = arrived_again($did);
ok t_cmp($rq->{headers}{'webhook-id'}, $did,
         'sent again, with the same X-Webhook-Delivery and webhook-id');
$rec = delivery_of($id, $did);
ok is_json([ @$rec{qw(status attempts lastStatusCode lastError lastAttemptAt)} ],
           [ 'PENDING', 0, undef, undef, undef ],
           'while in flight: PENDING, no attempt counted yet, no outcome');
ok t_cmp(redeliver($id, $did)->code, 409, 'in flight: 409');
$rx->answer(200);
$rec = settled($id, $did, 8);
ok t_cmp(join(' ', $rec->{status} // '', $rec->{attempts} // '',
              $rec->{lastStatusCode} // ''), 'DELIVERED 2 200',
         'delivered after the timeout and a retry: attempts counted afresh');
$rx->clear;
ok t_cmp(redeliver($id, $did)->code, 202, 'redelivered once more');
$rq = arrived_again($did);
$rec = settled($id, $did, 5);
ok t_cmp(join(' ', $rec->{status} // '', $rec->{attempts} // ''),
         'DELIVERED 1', 'at once: one attempt');
ok t_cmp(signature_of($rq), v1_with($rq, $secrets[-1]),
         'signed as any delivery, at the time of the attempt');

# Failed for good, then redelivered.
$rx->answer(500);
$rq = one_delivery();
my $failed = $rq->{headers}{'x-webhook-delivery'} // 'none';
$rec = settled($id, $failed, 8);
ok t_cmp(join(' ', $rec->{status} // '', $rec->{attempts} // ''),
         'FAILED 4', 'a delivery failed after its retries');
$rx->answer(200);
$rx->clear;
ok t_cmp(redeliver($id, $failed)->code, 202, 'a failed one: 202');
arrived_again($failed);
$rec = settled($id, $failed, 5);
ok t_cmp(join(' ', $rec->{status} // '', $rec->{attempts} // '',
              $rec->{lastStatusCode} // ''), 'DELIVERED 1 200',
         'and delivered');

# What the caller has no such delivery of: 404.
my $rx2 = MI::Receiver->start;
my $other_hook = json_of(hooks(POST => '', body => { url => $rx2->url,
    events => [ 'sync.completed' ] }))->{id} // 'none';
one_delivery();
my ($theirs) = $rx2->wait_for(sub { @_ >= 1 }, 5);
$theirs = $theirs ? $theirs->{headers}{'x-webhook-delivery'} : 'none';
ok t_cmp(error_of(redeliver($id, 'd_none')),
         '404 NOT_FOUND No delivery found with id "d_none"',
         'an unknown delivery: 404');
ok t_cmp(error_of(redeliver($id, $theirs)),
         qq{404 NOT_FOUND No delivery found with id "$theirs"},
         "another webhook's delivery: 404");
ok t_cmp(error_of(redeliver('wh_none', $did)),
         '404 NOT_FOUND No webhook found with id "wh_none"',
         'an unknown webhook: 404');
ok t_cmp(error_of(redeliver($id, $did, token => $sibling->{token})),
         qq{404 NOT_FOUND No webhook found with id "$id"},
         "another integration's token: 404");
my $stranger = tenant(name => 'Stranger');
ok t_cmp(redeliver($id, $did, token => $stranger->{token})->code, 404,
         "another organization's token: 404");
my $no_scope = tenant(scopes => 'integration:sync:read');
ok t_cmp(error_of(redeliver($id, $did, token => $no_scope->{token})),
         '403 INSUFFICIENT_SCOPES Token lacks the required scope '
         . 'integration:webhooks:manage', 'without the scope: 403');
ok t_cmp(hooks(GET => "/$id/deliveries/$did/redeliver")->code, 405,
         'GET on the redeliver path: 405');
documented('redeliver 404', '/webhook-events/{id}/deliveries/{deliveryId}/redeliver',
           'post', redeliver($id, 'd_none'));

# A webhook that is not active: queued, sent once it is active again.
hooks(PATCH => "/$id", body => { active => JSON::PP::false() });
$rx->clear;
ok t_cmp(redeliver($id, $did)->code, 202, 'a webhook not active: 202');
sleep 1;
ok t_cmp(scalar $rx->connections, 0, 'nothing sent while it is not active');
ok t_cmp(delivery_of($id, $did)->{status}, 'PENDING', 'it stays PENDING');
hooks(PATCH => "/$id", body => { active => JSON::PP::true() });
ok t_cmp(arrived_again($did)->{headers}{'x-webhook-delivery'}, $did,
         'sent once the webhook is active again');
settled($id, $did, 5);
hooks(DELETE => "/$other_hook");
$rx2->stop;

# ---- The listing ------------------------------------------------------------
# A webhook of its own: four deliveries delivered, one failed, one
# delivered and then queued again while the webhook is not active. Each
# written once the one before has arrived: created in that order.
my $rl = MI::Receiver->start;
$r = hooks(POST => '', body => { url => $rl->url, events => [ 'product.created' ] });
my $lid = json_of($r)->{id} // 'none';
my @ids;
for my $i (1 .. 5) {
    $rl->answer($i == 5 ? 500 : 200);
    $rl->clear;
    api(POST => '/products', token => $tok,
        body => { products => [ { externalId => "LP-$i", name => 'p' } ] });
    my ($got) = $rl->wait_for(sub { @_ >= 1 }, 5);
    push @ids, $got ? $got->{headers}{'x-webhook-delivery'} : "none-$i";
}
settled($lid, $ids[4], 8);
poll(sub { delivery_of($lid, $ids[3]) }, sub { ($_[0]{status} // '') eq 'DELIVERED' }, 5);
hooks(PATCH => "/$lid", body => { active => JSON::PP::false() });
redeliver($lid, $ids[0]);
sub listing { my $r = hooks(GET => "/$lid/deliveries$_[0]"); (json_of($r), $r) }
sub ids_total { my ($b) = @_; join(',', map { $_->{id} } @{ $b->{data} || [] }) . ' / ' . ($b->{total} // '') }
my $newest_first = join(',', reverse @ids);

my ($all, $res) = listing('');
ok t_cmp($res->code, 200, 'the listing');
documented('listing', '/webhook-events/{id}/deliveries', 'get', $res);
ok t_cmp(join(',', sort keys %$all), 'data,limit,page,total',
         '{ data, total, page, limit }');
ok is_json([ @$all{qw(total page limit)} ], [ 5, 1, 50 ], 'total 5, page 1, limit 50');
ok t_cmp(ids_total($all), "$newest_first / 5", 'newest first');
ok t_cmp(join(' | ', map { join ',', sort keys %$_ } @{ $all->{data} || [] }),
         join(' | ', ('attempts,createdAt,event,id,lastAttemptAt,lastError,'
                      . 'lastStatusCode,nextAttemptAt,status') x 5),
         'each entry: exactly its nine members');
my %by_id = map { $_->{id} => $_ } @{ $all->{data} || [] };
my ($pending, $delivered, $fail) = map { $by_id{$_} // {} } @ids[0, 1, 4];
ok is_json([ @$pending{qw(event status attempts lastStatusCode lastError lastAttemptAt)} ],
           [ 'product.created', 'PENDING', 0, undef, undef, undef ],
           'queued again: PENDING, no attempt, no outcome');
ok t_cmp($pending->{nextAttemptAt} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
         'and its next attempt');
ok is_json([ @$delivered{qw(status attempts lastStatusCode lastError nextAttemptAt)} ],
           [ 'DELIVERED', 1, 200, undef, undef ], 'a delivered one');
ok t_cmp(iso_epoch($delivered->{lastAttemptAt}) >= iso_epoch($delivered->{createdAt})
         && iso_epoch($delivered->{createdAt}) > 0 ? 1 : 0, 1,
         'its createdAt and lastAttemptAt');
ok is_json([ @$fail{qw(status attempts lastStatusCode lastError nextAttemptAt)} ],
           [ 'FAILED', 4, 500, 'HTTP 500', undef ], 'a failed one');
ok t_cmp($fail->{lastAttemptAt} // '', qr/^\d{4}-.*Z$/, 'and when it was last tried');

my @rev = reverse @ids;
for my $case ([ '?status=PENDING', "$ids[0] / 1" ],
              [ '?status=DELIVERED', join(',', @ids[3, 2, 1]) . ' / 3' ],
              [ '?status=FAILED', "$ids[4] / 1" ],
              [ '?limit=2', join(',', @rev[0, 1]) . ' / 5' ],
              [ '?limit=2&page=2', join(',', @rev[2, 3]) . ' / 5' ],
              [ '?limit=2&page=3', "$rev[4] / 5" ],
              [ '?limit=2&page=4', ' / 5' ],
              [ '?status=DELIVERED&limit=2&page=2', "$ids[1] / 3" ],
              [ '?limit=500', "$newest_first / 5" ]) {
    my ($q, $want) = @$case;
    my ($b) = listing($q);
    ok t_cmp(ids_total($b), $want, "$q: its page and total");
}
my ($page2) = listing('?limit=2&page=2');
ok is_json([ @$page2{qw(page limit)} ], [ 2, 2 ], 'page and limit as asked');
my ($clamped) = listing('?limit=500');
ok is_json($clamped->{limit}, 100, 'a limit over 100 is 100');

for my $case ([ '?status=delivered', 'status must be PENDING, DELIVERED or FAILED' ],
              [ '?status=LEASED', 'status must be PENDING, DELIVERED or FAILED' ],
              [ '?status=', 'status must be PENDING, DELIVERED or FAILED' ],
              [ '?page=0', 'page must be an integer >= 1' ],
              [ '?limit=x', 'limit must be an integer >= 1' ]) {
    my ($q, $message) = @$case;
    (undef, $res) = listing($q);
    ok t_cmp(error_of($res), "400 VALIDATION_ERROR $message", "$q: 400");
}
documented('listing 400', '/webhook-events/{id}/deliveries', 'get',
           (listing('?status=NOPE'))[1]);
ok t_cmp(error_of(hooks(GET => "/$lid/deliveries", token => $sibling->{token})),
         qq{404 NOT_FOUND No webhook found with id "$lid"},
         "another integration's token: 404");
hooks(DELETE => "/$lid");
$rl->stop;

# ---- No secret is answered again, or logged ----------------------------------
my $answers = join "\n", map { $_->content } hooks(GET => ''), hooks(GET => "/$id"),
    hooks(GET => "/$id/deliveries?limit=100"),
    hooks(PATCH => "/$id", body => { active => JSON::PP::true() });
ok t_cmp(scalar(grep { index($answers, $_) >= 0 } @secrets), 0,
         'no secret in the list, the webhook, its deliveries, a PATCH');
my $log = do {
    open my $fh, '<', Apache::Test::vars('t_logs') . '/error_log' or die $!;
    local $/;
    <$fh> // '';
};
ok t_cmp(scalar(grep { index($log, substr($_, 6)) >= 0 } @secrets), 0,
         'no secret in the error log');
hooks(DELETE => "/$id");
$rx->stop;
