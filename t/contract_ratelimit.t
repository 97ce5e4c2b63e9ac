# Rate limits (API.md sections 1 and 3, docs/directives.md) on a server of
# this test's own (the suite's server sets IntegrationRateLimit, so its
# virtual hosts inherit that, not the default): the default when the
# directive is absent (100 per 60 s), `0` disables, a window resets, and
# the rate limit's place in the order of checks (after authentication,
# integration status and scope; before content type, body size, JSON and
# validation).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use HTTP::Request ();
use Time::HiRes qw(time sleep);
use MI::Test;
use MI::Server;

plan tests => 48, have_lwp;

# main server: no IntegrationRateLimit; vhost 1: 0; vhost 2: 2 per 2 s;
# vhost 3: 3 per 60 s and a small body limit.
my $s = MI::Server->new(vhosts => [ 'IntegrationRateLimit 0',
                                    'IntegrationRateLimit 2 2',
                                    "IntegrationRateLimit 3 60\nIntegrationMaxBodySize 1K" ]);
ok t_cmp($s->start, 1, 'a server of its own starts') or print STDERR $s->log_text;
my $ua = $s->ua;

sub req {
    my ($method, $path, $n, $token, $body, %h) = @_;
    %h = ('Content-Type' => 'application/json', %h) if defined $body;
    $h{Authorization} = "Bearer $token" if $token;
    my $r = HTTP::Request->new($method, $s->url($path, $n), [ %h ]);
    $r->content($body) if defined $body;
    return $ua->request($r);
}
sub get { req(GET => '/suppliers', $_[0], $_[1]) }
sub code_error {
    my ($r) = @_;
    my $b = eval { decode_json($r->content) };
    return $r->code . ' ' . (ref $b eq 'HASH' ? $b->{error} // '-' : 'not JSON');
}

# ---- the default: 100 requests per 60 seconds ------------------------------

my $a = tenant();
my $r = get(0, $a->{token});
ok t_cmp($r->code, 200, 'default: the first request');
ok t_cmp($r->header('X-RateLimit-Limit'), 100, 'default: X-RateLimit-Limit 100');
ok t_cmp($r->header('X-RateLimit-Remaining'), 99, 'default: 99 remaining');
my $left = ($r->header('X-RateLimit-Reset') // 0) - time;
ok t_cmp($left > 58 && $left <= 61 ? 1 : 0, 1,
         sprintf('default: a window of 60 s (resets in %.1f s)', $left));
my %codes;
$codes{ get(0, $a->{token})->code }++ for 2 .. 100;
ok t_cmp(join(',', map { "$_ x $codes{$_}" } sort keys %codes), '200 x 99',
         'default: 100 requests in all pass');
$r = get(0, $a->{token});
ok t_cmp(code_error($r), '429 RATE_LIMIT_EXCEEDED', 'default: the 101st is refused');
ok t_cmp($r->header('Content-Type') // '', qr{^application/json(?:;|\z)},
         '429: Content-Type application/json');
ok t_cmp(json_of($r)->{message}, 'Rate limit of 100 requests per 60 seconds exceeded',
         '429: the message');
my $retry = $r->header('Retry-After') // 0;
ok t_cmp($retry >= 1 && $retry <= 60 ? 1 : 0, 1, "429: Retry-After $retry");
ok t_cmp($r->header('X-RateLimit-Remaining'), 0, '429: nothing remaining');

# ---- 0 disables the limit ---------------------------------------------------

# The token over its budget on the main server is not limited here, and a
# fresh one passes far more than any inherited limit would let through.
$r = get(1, $a->{token});
ok t_cmp($r->code, 200, '0: a token refused elsewhere is served');
my $b = tenant();
%codes = ();
$codes{ get(1, $b->{token})->code }++ for 1 .. 150;
ok t_cmp(join(',', map { "$_ x $codes{$_}" } sort keys %codes), '200 x 150',
         '0: 150 requests in a minute all pass');
ok t_cmp(get(0, $b->{token})->header('X-RateLimit-Remaining'), 99,
         '0: and none of them was counted');

# ---- a window resets ----------------------------------------------------------

my $c = tenant();
my @first = map { get(2, $c->{token}) } 1 .. 3;
ok t_cmp(join(' ', map { $_->code } @first), '200 200 429',
         'window of 2 s: two pass, the third is refused');
ok t_cmp(join(' ', map { $_->header('X-RateLimit-Remaining') // '-' } @first),
         '1 0 0', 'remaining 1, 0, 0');
my $reset = $first[0]->header('X-RateLimit-Reset') // 0;
ok t_cmp($first[2]->header('X-RateLimit-Reset'), $reset,
         'a refused request does not move the window');
$retry = $first[2]->header('Retry-After') // 0;
ok t_cmp($retry >= 1 && $retry <= 2 ? 1 : 0, 1, "Retry-After $retry within the window");
# Just before the reset: still refused; at the reset: a fresh window.
my $wait = $reset - time - 0.4;
sleep $wait if $wait > 0;
my $early = get(2, $c->{token});
my $answered = time;
# (Answered after the reset, it tells nothing: the machine was slow.)
ok t_cmp($answered < $reset ? $early->code : 'late', $answered < $reset ? 429 : 'late',
         'just before the reset: still refused');
$wait = $reset - time + 0.1;
sleep $wait if $wait > 0;
$r = get(2, $c->{token});
ok t_cmp($r->code, 200, 'after the reset: served');
ok t_cmp($r->header('X-RateLimit-Remaining'), 1, 'a fresh window: 1 remaining');
ok t_cmp(($r->header('X-RateLimit-Reset') // 0) >= $reset + 2 ? 1 : 0, 1,
         'the new window ends 2 s after the old one or later');
ok t_cmp(get(2, $c->{token})->code . ' ' . get(2, $c->{token})->code, '200 429',
         'and holds two requests again');

# ---- the order of checks around the rate limit (vhost 3: 3 per 60 s) -------

# An exhausted token: every request it makes, whatever its faults after
# the rate limit, is 429; faults before it win.
sub exhaust {
    my ($token) = @_;
    get(3, $token) for 1 .. 3;
    my $r = get(3, $token);
    die 'not exhausted: ' . $r->code unless $r->code == 429;
}
my $d = tenant();
exhaust($d->{token});
my $big = '{"suppliers":[],"pad":"' . ('x' x 2048) . '"}';
for my $c ([ 'a wrong content type', POST => '/suppliers', '{"suppliers":[]}',
             'Content-Type' => 'text/plain' ],
           [ 'a body too large', POST => '/suppliers', $big ],
           [ 'invalid JSON', POST => '/suppliers', '{"suppliers":' ],
           [ 'a bad shape', POST => '/suppliers', '{"suppliers":5}' ],
           [ 'a bad query', GET => '/suppliers?page=0' ],
           [ 'an unknown record', GET => '/suppliers/NOPE' ],
           [ 'an unknown DDS', GET => '/dds/NOPE' ]) {
    my ($what, $method, $path, $body, %h) = @$c;
    $r = req($method, $path, 3, $d->{token}, $body, %h);
    ok t_cmp(code_error($r), '429 RATE_LIMIT_EXCEEDED',
             "rate limit before $what");
    ok t_cmp(($r->header('Retry-After') // 0) > 0 ? 1 : 0, 1,
             "rate limit before $what: Retry-After");
}
# Before the rate limit: route, method, authentication, status, scope.
ok t_cmp(code_error(req(GET => '/nope', 3, $d->{token})), '404 NOT_FOUND',
         'unknown path before the rate limit');
ok t_cmp(code_error(req(DELETE => '/suppliers', 3, $d->{token})),
         '405 METHOD_NOT_ALLOWED', 'wrong method before the rate limit');
my $ro = tenant(scopes => 'integration:suppliers:read');
exhaust($ro->{token});
$r = req(POST => '/suppliers', 3, $ro->{token}, '{"suppliers":[]}');
ok t_cmp(code_error($r), '403 INSUFFICIENT_SCOPES', 'scope before the rate limit');
ok t_cmp($r->header('X-RateLimit-Remaining'), 0,
         'the 403 carries the rate-limit headers');
my $in = tenant();
exhaust($in->{token});
(admin('integration', 'deactivate', $in->{integration}))[0] == 0
    or die 'deactivate failed';
ok t_cmp(code_error(get(3, $in->{token})), '403 INTEGRATION_INACTIVE',
         'integration status before the rate limit');
my $rv = tenant();
exhaust($rv->{token});
(admin('token', 'revoke', $rv->{token}))[0] == 0 or die 'revoke failed';
ok t_cmp(code_error(get(3, $rv->{token})), '401 TOKEN_REVOKED',
         'authentication before the rate limit');
ok t_cmp(code_error(get(3)), '401 AUTHENTICATION_REQUIRED',
         'no token: never the rate limit');
# A token with budget left gets the faults themselves (they are real).
my $e = tenant();
ok t_cmp(code_error(req(POST => '/suppliers', 3, $e->{token}, $big)),
         '413 PAYLOAD_TOO_LARGE', 'with budget left: the body too large is 413');
ok t_cmp(code_error(req(POST => '/suppliers', 3, $e->{token}, '{"suppliers":',
                        'Content-Type' => 'text/plain')),
         '415 UNSUPPORTED_MEDIA_TYPE', 'with budget left: 415');

# Every request counted here was counted once: the budget of a token is
# its own, and /health is not counted.
ok t_cmp(req(GET => '/health', 3)->code, 200, '/health needs no budget');
$s->stop;
ok t_cmp($s->pid, 0, 'the server stopped');
