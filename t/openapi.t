# The OpenAPI document (docs/openapi.json, served at /openapi.json) and the
# running server agree: every documented operation is routed, behind the
# scope the document names; every other method of a documented path is
# 405 naming the documented ones, and what the document does not have is
# 404; real responses of each endpoint match its schemas (a page by cursor
# among them), a 304 is documented where it comes and has no body, and
# every operation documents its 405 with the Allow header.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use MI::Test;
use MI::Schema;

my @methods = qw(get post put patch delete);

# The checks below: 3, then per documented operation one (no scope: it
# is served without a token) or two (401 without a token, 403 naming its
# scope with a token of another), one per undocumented method of a
# documented path, one per undocumented path, one per validated response.
my @samples;    # [ label, path template, method, response ]
my $r = api(GET => '/openapi.json');
my $doc = json_of($r);
my (@paths, @operations, @undocumented_methods);
for my $p (sort keys %{ $doc->{paths} || {} }) {
    my @documented = grep { $doc->{paths}{$p}{$_} } @methods;
    push @paths, [ $p, [ @documented ] ];
    push @operations, map { [ $p, $_ ] } @documented;
    push @undocumented_methods,
        map { my $m = $_; (grep { $_ eq $m } @documented) ? () : [ $p, $m ] }
        @methods;
}
die "no operations in the document" if @operations < 10;

# The scope an operation needs, as its security requirement names it;
# undef when it needs no token.
sub scope_of {
    my ($op) = @_;
    my @req = @{ $op->{security} || $doc->{security} || [] };
    return undef unless @req && $req[0]{bearerAuth} && @{ $req[0]{bearerAuth} };
    return $req[0]{bearerAuth}[0];
}

# A documented path with a value in each {parameter}.
sub concrete { $_[0] =~ s/\{[^}]+\}/NO-SUCH-RECORD/gr }

my $t = tenant();
my $tok = $t->{token};
my $no_scope = tenant(scopes => 'integration:dds:read');
my $sync_only = tenant(scopes => 'integration:sync:read');
sub sample { push @samples, [ @_ ] }

sample('health', '/health', 'get', api(GET => '/health'));
sample('upsert suppliers', '/suppliers', 'post', api(POST => '/suppliers',
    token => $tok, body => { suppliers => [
        { externalId => 'V-1', name => 'Amazon Timber', country => 'BR',
          certifications => ['FSC'], isEuOrigin => JSON::PP::false() },
        { externalId => 'V-2' } ] }));
sample('list suppliers', '/suppliers', 'get',
       api(GET => '/suppliers', token => $tok));
# A second supplier, so that a page of one has a next.
api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'V-3', name => 'Second' } ] });
my $first = api(GET => '/suppliers?limit=1', token => $tok);
sample('a page with a nextCursor', '/suppliers', 'get', $first);
sample('a page by cursor', '/suppliers', 'get',
       api(GET => '/suppliers?limit=1&cursor=' . json_of($first)->{nextCursor},
           token => $tok));
sample('a bad cursor', '/suppliers', 'get',
       api(GET => '/suppliers?cursor=nope', token => $tok));
sample('not modified', '/suppliers', 'get',
       api(GET => '/suppliers?limit=1', token => $tok,
           headers => { 'If-None-Match' => $first->header('ETag') }));
sample('get supplier', '/suppliers/{externalId}', 'get',
       api(GET => '/suppliers/V-1', token => $tok));
sample('unknown supplier', '/suppliers/{externalId}', 'get',
       api(GET => '/suppliers/NOPE', token => $tok));
sample('upsert products', '/products', 'post', api(POST => '/products',
    token => $tok, body => { products => [ { externalId => 'P-1',
        name => 'Planks', hsCode => '4407.29', supplierExternalId => 'V-1' } ] }));
sample('list products', '/products', 'get',
       api(GET => '/products', token => $tok));
sample('get product', '/products/{externalId}', 'get',
       api(GET => '/products/P-1', token => $tok));
sample('upsert batches', '/batches', 'post', api(POST => '/batches',
    token => $tok, body => { autoCreateDDS => JSON::PP::true(), batches => [
        { externalId => 'B-1', productExternalId => 'P-1', batchNumber => 'BN',
          quantity => 3, receivedDate => '2024-01-15' } ] }));
sample('list batches', '/batches', 'get', api(GET => '/batches', token => $tok));
sample('get batch', '/batches/{externalId}', 'get',
       api(GET => '/batches/B-1', token => $tok));
my $dds = api(GET => '/dds/B-1', token => $tok);
sample('DDS status', '/dds/{batchExternalId}', 'get', $dds);
sample('DDS status not modified', '/dds/{batchExternalId}', 'get',
       api(GET => '/dds/B-1', token => $tok,
           headers => { 'If-None-Match' => $dds->header('ETag') }));
sample('sync status', '/sync-status', 'get',
       api(GET => '/sync-status', token => $tok));
sample('sync status listing', '/sync-status', 'get',
       api(GET => '/sync-status?entityType=BATCH', token => $tok));
sample('sync status 400', '/sync-status', 'get',
       api(GET => '/sync-status?entityType=X', token => $tok));
sample('sync logs', '/sync-logs', 'get',
       api(GET => '/sync-logs', token => $tok));
sample('delete refused', '/products/{externalId}', 'delete',
       api(DELETE => '/products/P-1', token => $tok));
sample('delete batch', '/batches/{externalId}', 'delete',
       api(DELETE => '/batches/B-1', token => $tok));
sample('401', '/suppliers', 'get', api(GET => '/suppliers'));
sample('403', '/suppliers', 'get',
       api(GET => '/suppliers', token => $no_scope->{token}));
sample('415', '/suppliers', 'post', api(POST => '/suppliers', token => $tok,
       body => '{}', headers => { 'Content-Type' => 'text/plain' }));
sample('400', '/suppliers', 'post', api(POST => '/suppliers', token => $tok,
       body => '{"suppliers":'));

my $scoped = grep { scope_of($doc->{paths}{$_->[0]}{$_->[1]}) } @operations;
# A segment more on each documented path, unless that is documented too
# (/suppliers/x is /suppliers/{externalId}).
my @templates = map { my $re = $_->[0] =~ s/\{[^}]+\}/[^\/]+/gr; qr/^$re$/ }
                @paths;
my @unknown_paths = grep { my $p = $_; !grep { $p =~ $_ } @templates }
                    '/undocumented', map { "$_->[0]/zz-undocumented" } @paths;
plan tests => 3 + 2 * @operations + $scoped + @undocumented_methods
    + @unknown_paths + @samples, have_lwp;

ok t_cmp($r->code, 200, 'the document is served');
ok t_cmp($doc->{openapi}, qr/^3\.1\./, 'OpenAPI 3.1');
ok t_cmp(ref $doc->{components}{securitySchemes}{bearerAuth}, 'HASH',
         'bearer security scheme');

# Every documented operation is routed, behind its documented scope: the
# server checks the route and its method before the token (API.md section
# 1), so a 401 says the operation is routed, and a 403 names the scope the
# route requires.
for my $op (@operations) {
    my ($p, $m) = @$op;
    my $scope = scope_of($doc->{paths}{$p}{$m});
    my $label = uc($m) . " $p";
    my $res = api(uc $m => concrete($p));
    if (!defined $scope) {
        ok t_cmp($res->code, qr/^(200|503)$/,
                 "$label is served without a token");
        next;
    }
    ok t_cmp($res->code . ' ' . (json_of($res)->{error} // ''),
             '401 AUTHENTICATION_REQUIRED', "$label is routed (401)");
    my $other = $scope eq 'integration:dds:read' ? $sync_only : $no_scope;
    $res = api(uc $m => concrete($p), token => $other->{token});
    ok t_cmp(join(' | ', $res->code, json_of($res)->{error} // '',
                  json_of($res)->{message} // '',
                  $res->header('WWW-Authenticate') // ''),
             join(' | ', 403, 'INSUFFICIENT_SCOPES',
                  "Token lacks the required scope $scope",
                  qq{Bearer error="insufficient_scope", scope="$scope"}),
             "$label needs $scope");
}

# Every operation documents its 405 (another method on its path) with the
# Allow header.
for my $op (@operations) {
    my ($p, $m) = @$op;
    my $r405 = $doc->{paths}{$p}{$m}{responses}{405} || {};
    $r405 = $r405->{'$ref'} ? MI::Schema->new($doc)->resolve($r405->{'$ref'})
                            : $r405;
    ok t_cmp(join(' ', sort keys %{ $r405->{headers} || {} }), 'Allow',
             uc($m) . " $p documents its 405 with Allow");
}

# Any other method of a documented path: 405, allowing just the documented
# ones (GET brings HEAD).
for my $u (@undocumented_methods) {
    my ($p, $m) = @$u;
    my ($documented) = map { $_->[1] } grep { $_->[0] eq $p } @paths;
    my @allowed = map { uc } @$documented;
    push @allowed, 'HEAD' if grep { $_ eq 'get' } @$documented;
    my $res = api(uc $m => concrete($p));
    my $allow = join ',', sort split /\s*,\s*/,
        $res->header('Allow') // '';
    # Its body as the path's operations document their 405.
    my $schema = MI::Schema->new($doc)->response_schema($p, $documented->[0],
                                                        405);
    my $problems = $schema
        ? join('; ', MI::Schema->new($doc)->check($schema, json_of($res)))
        : 'no 405 documented';
    ok t_cmp($res->code . " Allow: $allow$problems",
             '405 Allow: ' . join(',', sort @allowed),
             uc($m) . " $p is not allowed");
}

# What the document does not have is not routed.
for my $p (@unknown_paths) {
    my $res = api(GET => concrete($p));
    ok t_cmp($res->code . ' ' . (json_of($res)->{message} // ''),
             '404 No endpoint ' . concrete($p), "GET $p is no endpoint");
}

my $checker = MI::Schema->new($doc);
for my $s (@samples) {
    my ($label, $path, $method, $res) = @$s;
    my $schema = $checker->response_schema($path, $method, $res->code);
    my @problems = $schema
        ? $checker->check($schema, json_of($res))
        : ("status " . $res->code . " is not documented for $method $path");
    # No body, so no schema: documented, empty, with the tag it confirms.
    if ($res->code == 304) {
        @problems = ();
        push @problems, "304 is not documented for $method $path"
            unless $doc->{paths}{$path}{$method}{responses}{304};
        push @problems, "a 304 with a body" if length $res->content;
        push @problems, "a 304 without ETag" unless $res->header('ETag');
    }
    ok t_cmp(join('; ', @problems), '', "response matches: $label ("
             . $res->code . ")");
}
