# Webhooks against API.md section 9, the rows webhooks.t leaves: the list
# never shows a secret; every bad field of a PATCH refused with its message,
# and nothing changed; a webhook's PATCH, rotate-secret, test, deliveries and
# DELETE for its own integration only (404 for another integration of the
# organization and for another organization, with nothing changed or sent);
# plain http refused where IntegrationWebhookAllowHttp is Off (the mi_nohttp
# virtual host); redirects not followed (a 301/302 answer fails the delivery
# with its status, and its Location is never requested); lastError and
# lastStatusCode of deliveries.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Apache::TestRequest ();
use Digest::SHA qw(hmac_sha256_hex);
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(sleep time);
use MI::Test;
use MI::Receiver;

plan tests => 75, have_lwp;

my $TRUE = JSON::PP::true();
my $FALSE = JSON::PP::false();
# A type-strict comparison (MI::Test's is_json), as a test of its own.
sub same { ok is_json(@_) }

my $t = tenant(name => 'Webhook contract');
my $tok = $t->{token};
sub hooks { my ($m, $path, $body, $token) = @_;
            api($m, '/webhook-events' . ($path // ''), token => $token // $tok,
                (defined $body ? (body => $body) : ())) }
# The webhook by GET, or { _status => CODE } when not a 200.
sub hook_of { my $r = hooks(GET => "/$_[0]", undef, $_[1]);
              $r->code == 200 ? json_of($r) : { _status => 0 + $r->code } }
sub deliveries { my $r = hooks(GET => "/$_[0]/deliveries", undef, $_[1]);
                 $r->code == 200 ? json_of($r)->{data} : [ { _status => 0 + $r->code } ] }
# Waits (at most $timeout s) until no delivery of the webhook is PENDING
# and there are at least $n; returns them.
sub settled {
    my ($id, $n, $token) = @_;
    my $until = time + 8;
    my $d;
    while (time < $until) {
        $d = deliveries($id, $token);
        last if @$d >= $n && !grep { ($_->{status} // '') eq 'PENDING' } @$d;
        sleep 0.2;
    }
    return $d;
}
sub supplier { api(POST => '/suppliers', token => $_[1] // $tok,
                   body => { suppliers => [ { externalId => $_[0], name => 'n' } ] }) }

my $rx = MI::Receiver->start;
my $r = hooks(POST => '', { url => $rx->url, events => [ 'supplier.created' ] });
my $hook = json_of($r);
ok t_cmp($r->code, 201, 'a webhook');
my $id = $hook->{id};
my $secret = $hook->{secret} // '';
$r = hooks(POST => '', { url => 'https://example.invalid/two',
                         events => [ 'sync.failed', 'dds.approved' ] });
my $second = json_of($r);

# ---- The list never shows a secret ---------------------------------------
$r = hooks(GET => '');
my $list = json_of($r);
same([ $list->{total}, [ sort map { $_->{id} } @{ $list->{data} || [] } ] ],
     [ 2, [ sort $id, $second->{id} ] ], 'the list: both webhooks');
same([ map { [ sort keys %$_ ] } @{ $list->{data} || [] } ],
     [ ([ sort qw(id url events active failureCount createdAt updatedAt) ]) x 2 ],
     'list entries: their members, no secret');
ok t_cmp(index($r->content, $secret) < 0 && index($r->content, 'whsec_') < 0
         && $r->content !~ /secret/i ? 1 : 0, 1,
         'no secret anywhere in the list');
same([ map { @$_{qw(url events active failureCount)} }
       grep { $_->{id} eq $id } @{ $list->{data} || [] } ],
     [ $rx->url, [ 'supplier.created' ], $TRUE, 0 ], 'a list entry');
my $rot = json_of(hooks(POST => "/$second->{id}/rotate-secret"));
$r = hooks(GET => '');
ok t_cmp(index($r->content, $rot->{secret} // 'whsec_') < 0
         && $r->content !~ /secret/i ? 1 : 0, 1,
         'nor after a rotation');
$r = hooks(PATCH => "/$second->{id}", { active => $FALSE });
ok t_cmp($r->code == 200 && $r->content !~ /secret|whsec_/i ? 1 : 0, 1,
         'nor in a PATCH answer');
hooks(DELETE => "/$second->{id}");

# ---- PATCH validation ----------------------------------------------------
my $before = hook_of($id);
for my $case (
    [ { url => 5 }, 'url is required and must be a string' ],
    [ { url => undef }, 'url is required and must be a string' ],
    [ { url => [ $rx->url ] }, 'url is required and must be a string' ],
    [ { url => 'ftp://example.com/' }, 'url must be an absolute http or https URL' ],
    [ { url => 'example.com/hook' }, 'url must be an absolute http or https URL' ],
    [ { url => '' }, 'url must be an absolute http or https URL' ],
    [ { url => 'https:///nohost' }, 'url must be an absolute URL with a host' ],
    [ { url => 'https://exa mple.com/' }, 'url must be an absolute URL with a host' ],
    [ { url => 'https://h/' . ('x' x 2040) }, 'url must be at most 2048 characters' ],
    [ { url => "https://h/\x{0}x" }, 'url must not contain NUL characters' ],
    [ { events => [] }, 'events must be a non-empty array of event names' ],
    [ { events => undef }, 'events must be a non-empty array of event names' ],
    [ { events => 'supplier.created' },
      'events must be a non-empty array of event names' ],
    [ { events => [ 5 ] }, 'events must be a non-empty array of event names' ],
    [ { events => [ 'supplier.created', 'webhook.test' ] },
      'Unknown event "webhook.test"' ],
    [ { events => [ 'Supplier.Created' ] }, 'Unknown event "Supplier.Created"' ],
    [ { events => [ 'batch.created', 'batch.created' ] },
      'Duplicate event "batch.created"' ],
    [ { active => 'false' }, 'active must be a boolean' ],
    [ { active => 0 }, 'active must be a boolean' ],
    [ { active => undef }, 'active must be a boolean' ],
    # One bad field refuses the good ones with it.
    [ { url => 'https://example.com/new', events => [ 'sync.failed' ],
        active => 'no' }, 'active must be a boolean' ],
    [ { url => 'https://example.com/new', events => [] },
      'events must be a non-empty array of event names' ],
) {
    $r = hooks(PATCH => "/$id", $case->[0]);
    same([ 0 + $r->code, json_of($r)->{error}, json_of($r)->{message} ],
         [ 400, 'VALIDATION_ERROR', $case->[1] ], "PATCH: $case->[1]");
}
same(hook_of($id), $before, 'no refused PATCH changed anything');
$r = hooks(PATCH => "/$id", '[{"active":false}]');
same([ 0 + $r->code, json_of($r)->{error}, json_of($r)->{message} ],
     [ 400, 'INVALID_JSON', 'Request body must be a JSON object' ],
     'PATCH with a non-object body');
$r = hooks(PATCH => "/$id", {});
same([ 0 + $r->code, @{ json_of($r) }{qw(url events active)} ],
     [ 200, $rx->url, [ 'supplier.created' ], $TRUE ],
     'an empty PATCH changes nothing');
$r = hooks(PATCH => "/$id", { events => [ 'supplier.created', 'supplier.updated' ],
                              url => $rx->url('/hook2'), unknown => 1 });
same([ 0 + $r->code, @{ json_of($r) }{qw(url events active)} ],
     [ 200, $rx->url('/hook2'), [ 'supplier.created', 'supplier.updated' ], $TRUE ],
     'a valid PATCH sets url and events, keeps active');
same([ @{ hook_of($id) }{qw(url events)} ],
     [ $rx->url('/hook2'), [ 'supplier.created', 'supplier.updated' ] ],
     'as GET shows');
hooks(PATCH => "/$id", { url => $rx->url, events => [ 'supplier.created' ] });

# ---- Isolation: another integration, another organization ----------------
my $i2 = integration($t->{org}, 'Other integration');
my $o = tenant(name => 'Webhook other org');
$before = hook_of($id);
for my $who ([ 'another integration', $i2->{token} ],
             [ 'another organization', $o->{token} ]) {
    my ($w, $wt) = @$who;
    my $msg = "No webhook found with id \"$id\"";
    my $seen = $rx->requests;
    my @answers = (
        hooks(GET => "/$id", undef, $wt),
        hooks(PATCH => "/$id", { active => $FALSE, url => 'https://evil.example/' },
              $wt),
        hooks(POST => "/$id/rotate-secret", undef, $wt),
        hooks(POST => "/$id/test", undef, $wt),
        hooks(GET => "/$id/deliveries", undef, $wt),
        hooks(DELETE => "/$id", undef, $wt),
    );
    same([ map { [ 0 + $_->code, json_of($_)->{error}, json_of($_)->{message} ] } @answers ],
         [ ([ 404, 'NOT_FOUND', $msg ]) x 6 ],
         "$w: GET, PATCH, rotate-secret, test, deliveries, DELETE are 404");
    same(scalar($rx->requests) - $seen, 0, "$w: its test sent nothing");
    same(hook_of($id), $before, "$w: the webhook is unchanged");
    same(json_of(hooks(GET => '', undef, $wt))->{total}, 0, "$w: lists none");
}
# The secret is the first one still: a delivery verifies with it.
{
    my $seen = $rx->requests;
    supplier('ISO-1');
    my @got = $rx->wait_for(sub { @_ > $seen }, 5);
    my $d = $got[$seen] // { headers => {}, body => '' };
    my $key = decode_base64(substr($secret, 6));
    ok t_cmp($d->{headers}{'x-webhook-signature'} // '',
             'sha256=' . hmac_sha256_hex(
                 ($d->{headers}{'x-webhook-timestamp'} // '') . ".$d->{body}", $key),
             'the refused rotations left the secret as it was');
}
# Events of one organization reach its webhooks (another integration's
# too), never another organization's.
{
    my $rx2 = MI::Receiver->start;
    my $h2 = json_of(hooks(POST => '', { url => $rx2->url,
                                         events => [ 'supplier.created' ] },
                           $i2->{token}));
    my $rx3 = MI::Receiver->start;
    my $h3 = json_of(hooks(POST => '', { url => $rx3->url,
                                         events => [ 'supplier.created' ] },
                           $o->{token}));
    supplier('ISO-2');
    my @got = $rx2->wait_for(sub { @_ >= 1 }, 5);
    my ($ev) = map { decode_json($_->{body}) } @got;
    same([ scalar @got, $ev->{data}{externalId}, $ev->{integrationId},
           $got[0]{headers}{'x-webhook-id'} ],
         [ 1, 'ISO-2', $i2->{integration}, $h2->{id} ],
         "another integration's webhook gets the organization's event, "
         . 'with its own integrationId');
    sleep 0.5;
    same(scalar $rx3->connections, 0, "another organization's webhook gets nothing");
    same(json_of(hooks(GET => '', undef, $o->{token}))->{data}[0]{id}, $h3->{id},
         'which it lists, alone');
    hooks(DELETE => "/$h2->{id}", undef, $i2->{token});
    $rx2->stop;
    $rx3->stop;
}

# ---- http refused where IntegrationWebhookAllowHttp is Off ----------------
{
    local $Apache::TestRequest::Module = 'mi_nohttp';
    my $base = 'http://' . Apache::TestRequest::hostport() . BASE;
    my $ua = LWP::UserAgent->new;
    my $send = sub {
        my ($m, $path, $body) = @_;
        my $req = HTTP::Request->new($m, "$base$path",
            [ Authorization => "Bearer $tok",
              (defined $body ? ('Content-Type' => 'application/json') : ()) ],
            defined $body ? encode_json($body) : undef);
        return $ua->request($req);
    };
    for my $url ($rx->url, 'http://example.com/hook', 'HTTP://example.com/hook',
                 'ftp://example.com/', 'example.com') {
        $r = $send->(POST => '/webhook-events', { url => $url,
                                                 events => [ 'sync.failed' ] });
        same([ 0 + $r->code, json_of($r)->{error}, json_of($r)->{message} ],
             [ 400, 'VALIDATION_ERROR', 'url must be an absolute https URL' ],
             "AllowHttp Off: POST $url refused");
    }
    $r = $send->(POST => '/webhook-events', { url => 'https://example.com/hook',
                                             events => [ 'sync.failed' ] });
    ok t_cmp($r->code, 201, 'AllowHttp Off: https accepted');
    my $hid = json_of($r)->{id} // 'none';
    $r = $send->(PATCH => "/webhook-events/$hid", { url => 'http://example.com/h' });
    same([ 0 + $r->code, json_of($r)->{message} ],
         [ 400, 'url must be an absolute https URL' ], 'AllowHttp Off: PATCH to http refused');
    $r = $send->(PATCH => "/webhook-events/$id", { url => $rx->url('/x') });
    same([ 0 + $r->code, json_of($r)->{message} ],
         [ 400, 'url must be an absolute https URL' ],
         'AllowHttp Off: PATCH of an http webhook to http refused');
    same(hook_of($hid)->{url}, 'https://example.com/hook', 'the https URL kept');
    $send->(DELETE => "/webhook-events/$hid");
}
# The default server, where it is On, takes them.
$r = hooks(POST => '', { url => 'http://example.com/hook', events => [ 'sync.failed' ] });
ok t_cmp($r->code, 201, 'AllowHttp On: http accepted');
hooks(DELETE => '/' . (json_of($r)->{id} // 'none'));

# ---- Redirects are not followed ------------------------------------------
{
    my $w = tenant(name => 'Webhook redirects');
    my $wt = $w->{token};
    my $target = MI::Receiver->start;
    my $rr = MI::Receiver->start;
    $rr->answer('302 ' . $target->url('/moved'));
    my $h = json_of(hooks(POST => '', { url => $rr->url,
                                        events => [ 'supplier.created' ] }, $wt));
    supplier('R-1', $wt);
    my ($d) = @{ settled($h->{id}, 1, $wt) };
    same([ @{ $d // {} }{qw(event status attempts lastStatusCode)} ],
         [ 'supplier.created', 'FAILED', 4, 302 ],
         '302: the delivery fails, after every retry, with status 302');
    ok t_cmp($d->{lastError} // '', qr/\b302\b/, 'lastError names the status');
    same([ scalar $rr->requests, scalar $target->requests ], [ 4, 0 ],
         'four attempts to the URL, none to the Location');
    same(hook_of($h->{id}, $wt)->{failureCount}, 4, 'four failures counted');
    $rr->answer('301 ' . $target->url('/moved'));
    $r = hooks(POST => "/$h->{id}/test", undef, $wt);
    my $res = json_of($r);
    same([ 0 + $r->code, @$res{qw(statusCode success attemptNumber)} ],
         [ 200, 301, $FALSE, 1 ], 'test: 301 is a failure with its status');
    ok t_cmp($res->{error} // '', qr/\b301\b/, 'test: its error names the status');
    same(scalar $target->connections, 0, 'the Location is not requested');
    $rr->answer('307 ' . $target->url('/moved'));
    $res = json_of(hooks(POST => "/$h->{id}/test", undef, $wt));
    same([ @$res{qw(statusCode success)}, scalar $target->requests ],
         [ 307, $FALSE, 0 ], 'test: 307 neither');

    # lastError and lastStatusCode: null on a delivery answered 2xx at once.
    $rr->answer(204);
    supplier('R-2', $wt);
    my @d = @{ settled($h->{id}, 2, $wt) };
    my ($ok) = grep { ($_->{status} // '') eq 'DELIVERED' } @d;
    same([ @{ $ok // {} }{qw(status attempts lastStatusCode lastError nextAttemptAt)} ],
         [ 'DELIVERED', 1, 204, undef, undef ],
         'a delivered delivery: its status code, lastError null');
    same([ grep { !exists(($ok // {})->{$_}) } qw(id event status attempts
                lastStatusCode lastError createdAt nextAttemptAt) ], [],
         'a delivery has its members');
    same(hook_of($h->{id}, $wt)->{failureCount}, 0, 'a 2xx resets the failures');

    # A connection refused: no status code, a lastError.
    my $gone = MI::Receiver->start;
    my $gone_url = $gone->url;
    $gone->stop;
    my $h2 = json_of(hooks(POST => '', { url => $gone_url,
                                         events => [ 'supplier.created' ] }, $wt));
    supplier('R-3', $wt);
    ($d) = @{ settled($h2->{id}, 1, $wt) };
    same([ @{ $d // {} }{qw(status attempts lastStatusCode)} ], [ 'FAILED', 4, undef ],
         'connection refused: FAILED, lastStatusCode null');
    ok t_cmp(defined $d->{lastError} && !ref $d->{lastError}
             && length $d->{lastError} ? 1 : 0, 1, 'and a lastError');
    $res = json_of(hooks(POST => "/$h2->{id}/test", undef, $wt));
    same([ @$res{qw(statusCode success)} ], [ undef, $FALSE ],
         'test: no status code, no success');
    ok t_cmp(defined $res->{error} && length $res->{error} ? 1 : 0, 1,
             'test: an error');

    # A pending delivery between attempts shows the last failure.
    $rr->answer(503);
    supplier('R-4', $wt);
    $rr->wait_for(sub { grep { ($_->{answer} // '') eq '503' } @_ }, 5);
    my $pending;
    my $until = time + 3;
    while (time < $until && !$pending) {
        ($pending) = grep { ($_->{status} // '') eq 'PENDING' && $_->{attempts} }
                     @{ deliveries($h->{id}, $wt) };
        sleep 0.05 unless $pending;
    }
    same([ @{ $pending // {} }{qw(status lastStatusCode)} ], [ 'PENDING', 503 ],
         'a delivery waiting for its retry shows its last status code');
    ok t_cmp(($pending // {})->{lastError} // '', qr/\b503\b/,
             'and its last error');
    ok t_cmp(($pending // {})->{nextAttemptAt} // '',
             qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'and when it is due');
    $rr->answer(200);
    ($d) = grep { $_->{id} eq (($pending // {})->{id} // '') }
           @{ settled($h->{id}, 4, $wt) };
    same([ @{ $d // {} }{qw(status lastStatusCode)} ], [ 'DELIVERED', 200 ],
         'delivered on a retry');
    $rr->stop;
    $target->stop;
}
$rx->stop;
