# Sync status and sync logs (API.md section 8).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use MI::Test;

plan tests => 43, have_lwp;

my $t = tenant();
my $tok = $t->{token};
sub get_json { json_of(api(GET => $_[0], token => $tok)) }

api(POST => '/suppliers', token => $tok, body => { suppliers => [
    { externalId => 'S-1', name => 'one' }, { externalId => 'S-2', name => 'two' },
    { externalId => 'S-3', name => 'three' }, { externalId => 'S-4' } ] });
api(POST => '/products', token => $tok, body => { products => [
    { externalId => 'P-1', name => 'p', supplierExternalId => 'S-1' } ] });
api(DELETE => '/suppliers/S-3', token => $tok);

# Summary.
my $s = get_json('/sync-status');
ok t_cmp($s->{suppliers}{total}, 2, 'suppliers total');
ok t_cmp($s->{products}{total}, 1, 'products total');
ok t_cmp($s->{batches}{total}, 0, 'batches total');

# Filtered listing.
my $l = get_json('/sync-status?entityType=SUPPLIER');
ok t_cmp($l->{total}, 2, 'entityType listing');
ok t_cmp($l->{entities}[0]{syncStatus}, 'SYNCED', 'listing format');
$l = get_json('/sync-status?entityType=SUPPLIER&externalIds=S-2,S-9,S-3');
ok t_cmp($l->{total}, 1, 'externalIds filter');
ok t_cmp($l->{entities}[0]{externalId}, 'S-2', 'the one that exists');
$l = get_json('/sync-status?entityType=PRODUCT&externalIds=P-1');
ok t_cmp($l->{entities}[0]{supplierExternalId}, 'S-1', 'products too');
$l = get_json('/sync-status?entityType=SUPPLIER&since=2999-01-01');
ok t_cmp($l->{total}, 0, 'since applies');

for my $q ('entityType=WIDGET', 'externalIds=S-1', 'entityType=supplier',
           'entityType=SUPPLIER&page=0',
           'entityType=SUPPLIER&externalIds=' . ('x' x 300)) {
    my $r = api(GET => "/sync-status?$q", token => $tok);
    ok t_cmp($r->code, 400, "400 for $q");
    ok t_cmp(json_of($r)->{error}, 'VALIDATION_ERROR', "VALIDATION_ERROR: $q");
}

# The externalIds filter at its limits: 500 ids pass, 501 are refused;
# an id of 255 characters passes, one of 256 is refused.
{
    my $q = '/sync-status?entityType=SUPPLIER&externalIds=';
    my @ids = map { "I-$_" } 1 .. 500;
    ok t_cmp(api(GET => $q . join(',', @ids), token => $tok)->code, 200,
             '500 externalIds');
    ok t_cmp(json_of(api(GET => $q . join(',', @ids, 'S-1'), token => $tok))
                 ->{message},
             'externalIds must list 1 to 500 comma-separated externalIds',
             '501 externalIds refused');
    ok t_cmp(api(GET => $q . ('x' x 255), token => $tok)->code, 200,
             'an externalId of 255 characters');
    ok t_cmp(json_of(api(GET => $q . ('x' x 256), token => $tok))->{message},
             'externalIds: each externalId must be at most 255 characters',
             'an externalId of 256 refused');
    # Characters, not bytes: 255 of "e-acute" are 510 bytes.
    ok t_cmp(api(GET => $q . ('%C3%A9' x 255), token => $tok)->code, 200,
             'an externalId of 255 two-byte characters');
}

# Logs: one per write request, newest first.
my $g = get_json('/sync-logs');
ok t_cmp($g->{total}, 3, 'three write requests, three logs');
ok t_cmp($g->{totalPages}, 1, 'totalPages');
my ($del, $prod, $sup) = @{ $g->{data} };
ok t_cmp($del->{action}, 'DELETE', 'newest first: the delete');
ok t_cmp($prod->{entityType}, 'PRODUCT', 'then the products');
ok t_cmp($sup->{status}, 'PARTIAL', 'a partial request');
ok t_cmp($sup->{recordsAffected}, 3, 'recordsAffected');
ok t_cmp($sup->{metadata}{created}, 3, 'metadata.created');
ok t_cmp($sup->{metadata}{errors}, 1, 'metadata.errors');
ok t_cmp($sup->{errorMessage}, '1 of 4 records failed', 'errorMessage');
ok t_cmp($sup->{integrationId}, $t->{integration}, 'integrationId');
ok t_cmp($sup->{startedAt}, qr/^\d{4}-\d\d-\d\dT.*Z$/, 'startedAt');
ok t_cmp($sup->{completedAt}, qr/Z$/, 'completedAt');

$g = get_json('/sync-logs?entityType=PRODUCT');
ok t_cmp($g->{total}, 1, 'entityType filter');
$g = get_json('/sync-logs?status=PARTIAL&limit=1');
ok t_cmp($g->{total}, 1, 'status filter');
ok t_cmp(json_of(api(GET => '/sync-logs?status=MAYBE', token => $tok))->{error},
         'VALIDATION_ERROR', 'bad status');

# Isolation and scope.
my $o = tenant();
ok t_cmp(json_of(api(GET => '/sync-logs', token => $o->{token}))->{total}, 0,
         "no other organization's logs");
ok t_cmp(json_of(api(GET => '/sync-status', token => $o->{token}))
         ->{suppliers}{total}, 0, "no other organization's counts");
ok t_cmp(json_of(api(GET => '/sync-status?entityType=SUPPLIER&externalIds=S-1',
                     token => $o->{token}))->{total}, 0,
         "nor its records by externalId");
my $ro = tenant(scopes => 'integration:suppliers:read');
ok t_cmp(api(GET => '/sync-status', token => $ro->{token})->code, 403,
         'sync:read scope required');
