# Routing, JSON errors, content type, body limits and JSON syntax
# (API.md section 1), in the order of checks.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use MI::Test;

plan tests => 41, have_lwp;

my $t = tenant();
my $tok = $t->{token};

# Unknown path and wrong method: JSON bodies, Allow header.
my $r = api(GET => '/nope');
ok t_cmp($r->code, 404, 'unknown path is 404');
ok t_cmp($r->header('Content-Type'), qr{^application/json}, '404 is JSON');
ok t_cmp(json_of($r)->{error}, 'NOT_FOUND', '404 code');

$r = api(DELETE => '/suppliers', token => $tok);
ok t_cmp($r->code, 405, 'wrong method is 405');
ok t_cmp(json_of($r)->{error}, 'METHOD_NOT_ALLOWED', '405 code');
ok t_cmp($r->header('Allow'), qr{GET.*POST}, 'Allow lists the methods');

$r = api(GET => '/suppliers/');
ok t_cmp($r->code, 404, 'empty externalId segment is 404');

# 405 comes before authentication.
$r = api(PUT => '/suppliers', body => '{}');
ok t_cmp($r->code, 405, '405 before 401');

# Health needs no token.
$r = api(GET => '/health');
ok t_cmp($r->code, 200, 'health is 200');
ok t_cmp(json_of($r)->{status}, 'ok', 'health says ok');

# The API answers below another Location too.
$r = api(GET => '/elsewhere/api/health');
ok t_cmp($r->code, 200, 'routes resolve below any Location');

# Content type (after auth, before the body).
$r = api(POST => '/suppliers', token => $tok, body => '{"suppliers":[]}',
         headers => { 'Content-Type' => 'text/plain' });
ok t_cmp($r->code, 415, 'text/plain is 415');
ok t_cmp(json_of($r)->{error}, 'UNSUPPORTED_MEDIA_TYPE', '415 code');
$r = api(POST => '/suppliers', token => $tok, body => '{"suppliers":[]}',
         headers => { 'Content-Type' => undef });
ok t_cmp($r->code, 415, 'missing Content-Type is 415');
$r = api(POST => '/suppliers', token => $tok, body => '{"suppliers":[]}',
         headers => { 'Content-Type' => 'application/json; charset=utf-8' });
ok t_cmp($r->code, 200, 'charset parameter accepted');
$r = api(POST => '/suppliers', token => $tok, body => '{"suppliers":[]}',
         headers => { 'Content-Type' => 'application/jsonx' });
ok t_cmp($r->code, 415, 'application/jsonx is not JSON');
$r = api(POST => '/suppliers', body => '{', headers =>
         { 'Content-Type' => 'text/plain' });
ok t_cmp($r->code, 401, 'authentication comes before the content type');

# Body size (1M in the test configuration).
my $big = '{"suppliers":[{"externalId":"x","name":"' . ('a' x (1024 * 1024))
        . '"}]}';
$r = api(POST => '/suppliers', token => $tok, body => $big);
ok t_cmp($r->code, 413, 'body over the limit is 413');
ok t_cmp(json_of($r)->{error}, 'PAYLOAD_TOO_LARGE', '413 code');

# A chunked body over the limit is refused too, and one under it is read.
{
    require LWP::UserAgent;
    require HTTP::Request;
    my $ua = LWP::UserAgent->new;
    my $url = url_of('/suppliers');
    my @chunks = map { 'a' x 65536 } 1 .. 20;
    my $body = '{"suppliers":[],"pad":"';
    my $req = HTTP::Request->new(POST => $url, [
        Authorization => "Bearer $tok",
        'Content-Type' => 'application/json' ]);
    my @parts = ($body, @chunks, '"}');
    $req->content(sub { shift @parts });
    my $res = $ua->request($req);
    ok t_cmp($res->code, 413, 'chunked body over the limit is 413');

    my @small = ('{"suppliers":', '[{"externalId":"CH-1",', '"name":"c"}]}');
    $req = HTTP::Request->new(POST => $url, [
        Authorization => "Bearer $tok",
        'Content-Type' => 'application/json' ]);
    $req->content(sub { shift @small });
    $res = $ua->request($req);
    ok t_cmp($res->code, 200, 'chunked body is read');
    ok t_cmp(json_of($res)->{created}, 1, 'chunked body written');
}

# JSON syntax and shape.
for my $case (['', 'empty body'], ['{"suppliers":[', 'truncated JSON'],
              ['{"suppliers":[],"suppliers":[]}', 'duplicate keys'],
              ['[]', 'array body'], ['"text"', 'string body'],
              ['null', 'null body']) {
    $r = api(POST => '/suppliers', token => $tok, body => $case->[0]);
    ok t_cmp($r->code, 400, "$case->[1] is 400");
    ok t_cmp(json_of($r)->{error}, 'INVALID_JSON', "$case->[1]: INVALID_JSON");
}

$r = api(POST => '/suppliers', token => $tok, body => '{"suppliers":{}}');
ok t_cmp($r->code, 400, 'records not an array is 400');
ok t_cmp(json_of($r)->{error}, 'VALIDATION_ERROR', 'VALIDATION_ERROR');
ok t_cmp(json_of($r)->{message}, 'suppliers must be an array', 'message');

$r = api(POST => '/suppliers', token => $tok, body => '{}');
ok t_cmp(json_of($r)->{error}, 'VALIDATION_ERROR', 'missing array');

$r = api(POST => '/suppliers', token => $tok,
         body => "{\"suppliers\":[{\"externalId\":\"\xff\xfe\",\"name\":\"x\"}]}");
ok t_cmp($r->code, 400, 'invalid UTF-8 is 400');
ok t_cmp(json_of($r)->{error}, 'VALIDATION_ERROR',
         'invalid UTF-8 is a validation error');

# HEAD of a GET route.
$r = api(HEAD => '/health');
ok t_cmp($r->code, 200, 'HEAD is served');
