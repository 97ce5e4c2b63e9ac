# The OpenAPI document (docs/openapi.json, served at /openapi.json): every
# route of the module's route table is documented and every documented
# operation is routed; real responses of each endpoint match its schemas.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use MI::Test;
use MI::Schema;

my $routes_file = $ENV{MI_ROUTES} or die "MI_ROUTES is not set";
open my $fh, '<', $routes_file or die "$routes_file: $!";
my @routes;
while (<$fh>) {
    push @routes, [ $1, lc $2 ] if /\{\s*"(\/[^"]*)",\s*M_(\w+),/;
}
close $fh;
die "no routes found in $routes_file" if @routes < 10;

# The checks below: 3 + one per route + one per documented operation +
# one per validated response.
my @samples;    # [ label, path template, method, response ]
my $r = api(GET => '/openapi.json');
my $doc = json_of($r);
my @operations;
for my $p (sort keys %{ $doc->{paths} || {} }) {
    for my $m (sort keys %{ $doc->{paths}{$p} }) {
        push @operations, [ $p, $m ] if $m =~ /^(get|post|put|patch|delete)$/;
    }
}

my $t = tenant();
my $tok = $t->{token};
my $no_scope = tenant(scopes => 'integration:dds:read');
sub sample { push @samples, [ @_ ] }

sample('health', '/health', 'get', api(GET => '/health'));
sample('upsert suppliers', '/suppliers', 'post', api(POST => '/suppliers',
    token => $tok, body => { suppliers => [
        { externalId => 'V-1', name => 'Amazon Timber', country => 'BR',
          certifications => ['FSC'], isEuOrigin => JSON::PP::false() },
        { externalId => 'V-2' } ] }));
sample('list suppliers', '/suppliers', 'get',
       api(GET => '/suppliers', token => $tok));
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
sample('DDS status', '/dds/{batchExternalId}', 'get',
       api(GET => '/dds/B-1', token => $tok));
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

plan tests => 3 + @routes + @operations + @samples, have_lwp;

ok t_cmp($r->code, 200, 'the document is served');
ok t_cmp($doc->{openapi}, qr/^3\.1\./, 'OpenAPI 3.1');
ok t_cmp(ref $doc->{components}{securitySchemes}{bearerAuth}, 'HASH',
         'bearer security scheme');

# Route table and document, both ways. A "*" segment of a route is a
# {parameter} in the document.
my %documented = map { (($_->[0] =~ s/\{[^}]+\}/*/gr) . " $_->[1]") => 1 }
                 @operations;
my %routed = map { ("$_->[0] $_->[1]") => 1 } @routes;
for my $route (@routes) {
    ok t_cmp($documented{"$route->[0] $route->[1]"} ? 1 : 0, 1,
             "route $route->[1] $route->[0] is documented");
}
for my $op (@operations) {
    my $key = ($op->[0] =~ s/\{[^}]+\}/*/gr) . " $op->[1]";
    ok t_cmp($routed{$key} ? 1 : 0, 1, "operation $op->[1] $op->[0] is routed");
}

my $checker = MI::Schema->new($doc);
for my $s (@samples) {
    my ($label, $path, $method, $res) = @$s;
    my $schema = $checker->response_schema($path, $method, $res->code);
    my @problems = $schema
        ? $checker->check($schema, json_of($res))
        : ("status " . $res->code . " is not documented for $method $path");
    ok t_cmp(join('; ', @problems), '', "response matches: $label ("
             . $res->code . ")");
}
