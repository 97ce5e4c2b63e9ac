# Rows of API.md sections 1 to 3 the other files leave open: the order of
# checks, pair by adjacent pair ("route known -> method allowed ->
# authentication (401s in the order of the table) -> integration active ->
# scope -> rate limit -> content type -> body size -> JSON -> validation";
# the pairs with the rate limit are in t/contract_ratelimit.t, which has a
# server of its own with a small limit); WWW-Authenticate on every 401;
# a JSON Content-Type on 405, 413 and 415 (and the other error answers);
# the rate-limit headers on error answers of an authenticated request.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use MI::Test;

plan tests => 154, have_lwp;

# An error answer: its status, a JSON Content-Type, a JSON object body
# with the code (and the message, when told). 3 checks (4 with a message).
sub is_error {
    my ($r, $status, $code, $what, $message) = @_;
    ok t_cmp($r->code, $status, "$what: status");
    ok t_cmp($r->header('Content-Type') // '', qr{^application/json(?:;|\z)},
             "$what: Content-Type application/json");
    my $b = eval { decode_json($r->content) };
    ok t_cmp(ref $b eq 'HASH' ? $b->{error} // '(no error member)'
                              : 'not a JSON object: ' . substr($r->content, 0, 80),
             $code, "$what: $code");
    ok t_cmp(ref $b eq 'HASH' ? $b->{message} : undef, $message,
             "$what: message") if defined $message;
}

my $t = tenant();
my $tok = $t->{token};
my $max = 1024 * 1024;    # IntegrationMaxBodySize 1M (t/conf/httpd.conf.in)
my $too_big = '{"suppliers":[],"pad":"' . ('a' x $max) . '"}';
my $bad_json = '{"suppliers":[' . (' ' x 16);
my $records = '{"suppliers":[{"externalId":"ORDER-1","name":"o"}]}';
my %text = ('Content-Type' => 'text/plain');

# ---- WWW-Authenticate on every 401 (RFC 6750) ---------------------------

my $challenge = 'Bearer error="invalid_token"';
my $exp = tenant(expires => '2020-01-01T00:00:00Z');
my $r = api(GET => '/suppliers', token => $exp->{token});
is_error($r, 401, 'TOKEN_EXPIRED', 'expired token', 'API token has expired');
ok t_cmp($r->header('WWW-Authenticate'), $challenge, 'TOKEN_EXPIRED challenge');
# Every malformed header (t/auth.t checks the codes, and the challenge of
# the last one only).
for my $h ('Basic abc', 'Bearer', 'Bearer eudr_live_abc', 'Token ' . $tok,
           "Bearer ${tok}0", "Bearer \U$tok") {
    $r = api(GET => '/suppliers', headers => { Authorization => $h });
    ok t_cmp($r->code . ' ' . ($r->header('WWW-Authenticate') // '(none)'),
             "401 $challenge", "INVALID_TOKEN_FORMAT challenge: " . substr($h, 0, 12));
}
$r = api(GET => '/suppliers');
is_error($r, 401, 'AUTHENTICATION_REQUIRED', 'no Authorization header',
         'Authorization header is required');
ok t_cmp($r->header('WWW-Authenticate'), 'Bearer', 'a challenge without error');
ok !defined $r->header('X-RateLimit-Limit');    # not authenticated: not counted

# ---- a JSON Content-Type on the module's error answers ------------------

is_error(api(DELETE => '/suppliers', token => $tok), 405, 'METHOD_NOT_ALLOWED',
         '405 with a token');
is_error(api(PATCH => '/suppliers', body => '{}'), 405, 'METHOD_NOT_ALLOWED',
         '405 without a token');
is_error(api(POST => '/health', body => '{}'), 405, 'METHOD_NOT_ALLOWED',
         '405 of a route without a token');
is_error(api(POST => '/suppliers', token => $tok, body => $too_big), 413,
         'PAYLOAD_TOO_LARGE', '413', 'Request body exceeds the limit of '
         . "$max bytes");
is_error(api(POST => '/suppliers', token => $tok, body => $records,
             headers => \%text), 415, 'UNSUPPORTED_MEDIA_TYPE', '415',
         'Content-Type must be application/json');
is_error(api(POST => '/suppliers', token => $tok, body => $records,
             headers => { 'Content-Type' => undef }), 415,
         'UNSUPPORTED_MEDIA_TYPE', '415 without a Content-Type');
is_error(api(GET => '/suppliers/NOPE', token => $tok), 404, 'NOT_FOUND',
         '404 of a record');
is_error(api(GET => '/suppliers?limit=x', token => $tok), 400,
         'VALIDATION_ERROR', '400 of a query');
my $ro = tenant(scopes => 'integration:suppliers:read');
is_error(api(POST => '/suppliers', token => $ro->{token}, body => $records),
         403, 'INSUFFICIENT_SCOPES', '403');

# ---- the order of checks, pair by pair ----------------------------------

# route known -> method allowed: an unknown path is 404 whatever the method.
is_error(api(DELETE => '/nope', token => $tok), 404, 'NOT_FOUND',
         'unknown path with a method no route has');
is_error(api(POST => '/suppliers/X/nope', token => $tok, body => '{}'), 404,
         'NOT_FOUND', 'a path below a record');
# method allowed -> authentication: t/http.t ('405 before 401'); and with
# a token that is refused.
is_error(api(PUT => '/suppliers', token => $exp->{token}, body => '{}'), 405,
         'METHOD_NOT_ALLOWED', 'wrong method with an expired token');

# 401s in the order of the table: a revoked token that has also expired
# is TOKEN_REVOKED (the only pair of the five one token can be both of).
my $both = tenant(expires => '2020-01-01T00:00:00Z');
my ($rc) = admin('token', 'revoke', $both->{token});
die "revoke failed" if $rc;
is_error(api(GET => '/suppliers', token => $both->{token}), 401,
         'TOKEN_REVOKED', 'revoked and expired', 'API token has been revoked');

# authentication -> integration active: a refused token of an inactive
# integration is the 401.
my $gone = tenant(expires => '2020-01-01T00:00:00Z');
($rc) = admin('integration', 'deactivate', $gone->{integration});
die "deactivate failed" if $rc;
is_error(api(GET => '/suppliers', token => $gone->{token}), 401,
         'TOKEN_EXPIRED', 'expired token of an inactive integration');
my $gone2 = tenant();
(admin('token', 'revoke', $gone2->{token}))[0] == 0 or die "revoke failed";
(admin('integration', 'deactivate', $gone2->{integration}))[0] == 0
    or die "deactivate failed";
is_error(api(GET => '/suppliers', token => $gone2->{token}), 401,
         'TOKEN_REVOKED', 'revoked token of an inactive integration');

# integration active -> scope: an inactive integration's token without
# the route's scope is INTEGRATION_INACTIVE.
my $idle = tenant(scopes => 'integration:sync:read');
(admin('integration', 'deactivate', $idle->{integration}))[0] == 0
    or die "deactivate failed";
is_error(api(POST => '/suppliers', token => $idle->{token}, body => $records),
         403, 'INTEGRATION_INACTIVE', 'inactive and without the scope');
is_error(api(GET => '/sync-status', token => $idle->{token}), 403,
         'INTEGRATION_INACTIVE', 'inactive, with the scope');

# authentication -> scope: an expired token without the scope is the 401.
my $old_ro = tenant(scopes => 'integration:suppliers:read',
                    expires => '2020-01-01T00:00:00Z');
is_error(api(POST => '/suppliers', token => $old_ro->{token}, body => $records),
         401, 'TOKEN_EXPIRED', 'expired and without the scope');

# scope -> content type -> body size -> JSON -> validation: a token
# without the scope is refused whatever its request carries.
my $scope_msg = 'Token lacks the required scope integration:suppliers:write';
is_error(api(POST => '/suppliers', token => $ro->{token}, body => $records,
             headers => \%text), 403, 'INSUFFICIENT_SCOPES',
         'wrong scope and a wrong content type', $scope_msg);
is_error(api(POST => '/suppliers', token => $ro->{token}, body => $too_big),
         403, 'INSUFFICIENT_SCOPES', 'wrong scope and a body too large',
         $scope_msg);
is_error(api(POST => '/suppliers', token => $ro->{token}, body => $bad_json),
         403, 'INSUFFICIENT_SCOPES', 'wrong scope and invalid JSON');
is_error(api(POST => '/suppliers', token => $ro->{token},
             body => '{"suppliers":{}}'), 403, 'INSUFFICIENT_SCOPES',
         'wrong scope and a bad shape');
my $wo = tenant(scopes => 'integration:suppliers:write');
is_error(api(GET => '/suppliers?page=0', token => $wo->{token}), 403,
         'INSUFFICIENT_SCOPES', 'wrong scope and a bad query');

# authentication -> body: no token and a body too large (or not JSON).
is_error(api(POST => '/suppliers', body => $too_big), 401,
         'AUTHENTICATION_REQUIRED', 'no token and a body too large');
is_error(api(POST => '/suppliers', token => "eudr_live_" . ('0' x 48),
             body => $bad_json), 401, 'INVALID_TOKEN',
         'an unknown token and invalid JSON');

# content type -> body size: a body too large and not declared JSON.
is_error(api(POST => '/suppliers', token => $tok, body => $too_big,
             headers => \%text), 415, 'UNSUPPORTED_MEDIA_TYPE',
         'wrong content type and a body too large');
# content type -> JSON.
is_error(api(POST => '/suppliers', token => $tok, body => $bad_json,
             headers => \%text), 415, 'UNSUPPORTED_MEDIA_TYPE',
         'wrong content type and invalid JSON');

# body size -> JSON: a body too large that is not JSON either.
is_error(api(POST => '/suppliers', token => $tok,
             body => '{' . ('x' x ($max + 10))), 413, 'PAYLOAD_TOO_LARGE',
         'a body too large and not JSON');

# JSON -> validation: duplicate keys (or a syntax error) whatever the
# shape; a bad shape before any record is looked at (TOO_MANY_RECORDS of
# records that would each fail, and nothing written).
is_error(api(POST => '/suppliers', token => $tok,
             body => '{"suppliers":{},"suppliers":7}'), 400, 'INVALID_JSON',
         'duplicate keys and a bad shape');
is_error(api(POST => '/batches', token => $tok,
             body => '{"batches":"x","autoCreateDDS":"y",'), 400,
         'INVALID_JSON', 'a syntax error and a bad shape');
my $many_bad = encode_json({ suppliers => [ map { { externalId => "TB-$_" } }
                                            1 .. 501 ] });
is_error(api(POST => '/suppliers', token => $tok, body => $many_bad), 400,
         'TOO_MANY_RECORDS', '501 records that would each fail');
is_error(api(GET => '/suppliers/TB-1', token => $tok), 404, 'NOT_FOUND',
         'nothing of them was written');

# ---- rate-limit headers on the error answers of a token -----------------

# Each answer carries the three headers; each request counts (Remaining
# goes down by one from answer to answer: no other request of this token
# runs meanwhile). 1000 per 60 s on this server.
my $rl = tenant();
my @answers = (
    [ '400 query', 400, api(GET => '/suppliers?page=0', token => $rl->{token}) ],
    [ '400 JSON', 400, api(POST => '/suppliers', token => $rl->{token},
                           body => $bad_json) ],
    [ '400 shape', 400, api(POST => '/suppliers', token => $rl->{token},
                            body => '{"suppliers":1}') ],
    [ '404 record', 404, api(GET => '/products/NOPE', token => $rl->{token}) ],
    [ '404 DDS', 404, api(GET => '/dds/NOPE', token => $rl->{token}) ],
    [ '415', 415, api(POST => '/suppliers', token => $rl->{token},
                      body => $records, headers => \%text) ],
    [ '413', 413, api(POST => '/suppliers', token => $rl->{token},
                      body => $too_big) ],
    [ '200', 200, api(POST => '/suppliers', token => $rl->{token},
                      body => $records, headers => { 'Idempotency-Key' => 'h-1' }) ],
    [ '422', 422, api(POST => '/suppliers', token => $rl->{token},
                      body => '{"suppliers":[]}',
                      headers => { 'Idempotency-Key' => 'h-1' }) ],
);
my $prev;
for my $a (@answers) {
    my ($what, $status, $res) = @$a;
    ok t_cmp($res->code, $status, "$what: status");
    ok t_cmp($res->header('X-RateLimit-Limit'), 1000, "$what: X-RateLimit-Limit");
    ok t_cmp($res->header('X-RateLimit-Reset') // '', qr/^\d{10}$/,
             "$what: X-RateLimit-Reset in epoch seconds");
    my $left = $res->header('X-RateLimit-Remaining') // -1;
    ok t_cmp($left, defined $prev ? $prev - 1 : 999,
             "$what: X-RateLimit-Remaining counts it");
    $prev = $left;
}
