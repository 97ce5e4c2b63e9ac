# Products, batches and DDS (API.md sections 4, 6 and 7): references in
# sync order, batch rules, DDS drafts and numbering, DDS status, the 409
# rules of deletes, and tenant isolation of these routes.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use POSIX ();
use MI::Test;

plan tests => 78, have_lwp;

my $t = tenant();
my $tok = $t->{token};
my $year = POSIX::strftime('%Y', gmtime);

sub post {
    my ($what, $records, %extra) = @_;
    return api(POST => "/$what", token => $tok,
               body => { $what => $records, %extra });
}
sub get_json { json_of(api(GET => $_[0], token => $tok)) }

# Sync order: a product before its supplier, a batch before its product.
my $r = post(products => [ { externalId => 'ITEM-1', name => 'Planks',
                             supplierExternalId => 'VENDOR-1' } ]);
my $b = json_of($r);
ok t_cmp($b->{created}, 0, 'product with an unknown supplier is not created');
ok t_cmp($b->{errors}[0]{error},
         'Supplier with externalId "VENDOR-1" not found. Sync suppliers first.',
         'supplier-first message');
$r = post(batches => [ { externalId => 'B-1', productExternalId => 'ITEM-999',
                         batchNumber => 'BN-1' } ]);
ok t_cmp(json_of($r)->{errors}[0]{error},
         'Product with externalId "ITEM-999" not found. Sync products first.',
         'public product-first message');
ok t_cmp(json_of($r)->{ddsCreated}, [], 'ddsCreated is always there');

# Suppliers, then products linked to them.
post(suppliers => [ { externalId => 'VENDOR-1', name => 'Amazon Timber',
                      country => 'BR' },
                    { externalId => 'VENDOR-2', name => 'Borneo Wood',
                      country => 'MY' } ]);
$r = post(products => [
    { externalId => 'ITEM-1', name => 'Planks', hsCode => '4407.29',
      supplierExternalId => 'VENDOR-1', category => 'wood' },
    { externalId => 'ITEM-2', name => 'Beams' },
    { externalId => 'ITEM-3' } ]);
$b = json_of($r);
ok t_cmp($b->{created}, 2, 'products created');
ok t_cmp($b->{errors}[0]{error}, 'Product name is required', 'product name');
my $p = get_json('/products/ITEM-1');
ok t_cmp($p->{supplierExternalId}, 'VENDOR-1', 'link set');
ok t_cmp($p->{hsCode}, '4407.29', 'hsCode');
ok is_null(get_json('/products/ITEM-2'), 'supplierExternalId', 'no link');
post(products => [ { externalId => 'ITEM-1', name => 'Planks',
                     supplierExternalId => 'VENDOR-2' } ]);
ok t_cmp(get_json('/products/ITEM-1')->{supplierExternalId}, 'VENDOR-2',
         'link changed');
post(products => [ { externalId => 'ITEM-1', name => 'Planks' } ]);
ok t_cmp(get_json('/products/ITEM-1')->{supplierExternalId}, 'VENDOR-2',
         'absent link kept');
post(products => [ { externalId => 'ITEM-1', name => 'Planks',
                     supplierExternalId => undef } ]);
ok is_null(get_json('/products/ITEM-1'), 'supplierExternalId', 'null unlinks');
post(products => [ { externalId => 'ITEM-1', name => 'Planks',
                     supplierExternalId => 'VENDOR-1' } ]);
my $l = get_json('/products');
ok t_cmp($l->{total}, 2, 'product listing total');
ok t_cmp((grep { $_->{externalId} eq 'ITEM-1' } @{ $l->{entities} })[0]
         {supplierExternalId}, 'VENDOR-1', 'listing shows the supplier');

# Batch rules.
my @cases = (
    [ { productExternalId => 'ITEM-1' }, 'Batch number is required' ],
    [ { batchNumber => 'BN' }, 'productExternalId is required' ],
    [ { batchNumber => 'BN', productExternalId => '' },
      'productExternalId is required' ],
    [ { batchNumber => 'BN', productExternalId => 'ITEM-1',
        receivedDate => '2023-02-29' },
      'receivedDate must be an ISO date (YYYY-MM-DD)' ],
    [ { batchNumber => 'BN', productExternalId => 'ITEM-1',
        expiryDate => '2024-13-01' },
      'expiryDate must be an ISO date (YYYY-MM-DD)' ],
    [ { batchNumber => 'BN', productExternalId => 'ITEM-1',
        batchDate => '2024-02-30' },
      'receivedDate must be an ISO date (YYYY-MM-DD)' ],
    [ { batchNumber => 'BN', productExternalId => 'ITEM-1', quantity => -1 },
      'quantity must be a non-negative number' ],
    [ { batchNumber => 'BN', productExternalId => 'ITEM-1', quantity => '5' },
      'quantity must be a number' ],
);
my $n = 0;
for my $c (@cases) {
    $n++;
    $r = post(batches => [ { externalId => "BAD-$n", %{ $c->[0] } } ]);
    ok t_cmp(json_of($r)->{errors}[0]{error}, $c->[1], "batch: $c->[1]");
}
$r = api(POST => '/batches', token => $tok,
         body => { batches => [], autoCreateDDS => 'yes' });
ok t_cmp(json_of($r)->{error}, 'VALIDATION_ERROR', 'autoCreateDDS type');

# DDS numbers are per organization: another one's DDS come first here, and
# take that organization's first numbers, not this one's.
my $x = tenant(name => 'Numbering');
sub post_x {
    my ($what, $records, %extra) = @_;
    return api(POST => "/$what", token => $x->{token},
               body => { $what => $records, %extra });
}
post_x(products => [ { externalId => 'X-ITEM', name => 'X' } ]);
$r = post_x(batches => [
    map { { externalId => "X-B-$_", productExternalId => 'X-ITEM',
            batchNumber => "X$_" } } 1, 2 ], autoCreateDDS => JSON::PP::true());
ok t_cmp(join(',', sort map { $_->{ddsNumber} } @{ json_of($r)->{ddsCreated} || [] }),
         "DDS-$year-00001,DDS-$year-00002",
         "another organization's first DDS: its own 1 and 2");

# Batches with DDS drafts: created ones only.
$r = post(batches => [
    { externalId => 'B-1', productExternalId => 'ITEM-1', batchNumber => 'BN-1',
      quantity => 12.5, unit => 'm3', batchDate => '2024-02-29',
      expiryDate => '2026-01-31' } ], autoCreateDDS => JSON::PP::true());
$b = json_of($r);
ok t_cmp($b->{created}, 1, 'batch created');
ok t_cmp(scalar @{ $b->{ddsCreated} }, 1, 'one DDS');
ok t_cmp($b->{ddsCreated}[0]{batchExternalId}, 'B-1', 'for the batch');
ok t_cmp($b->{ddsCreated}[0]{status}, 'DRAFT', 'as DRAFT');
ok t_cmp($b->{ddsCreated}[0]{ddsNumber}, "DDS-$year-00001", 'first number');
my $e = get_json('/batches/B-1');
ok t_cmp($e->{receivedDate}, '2024-02-29', 'batchDate is receivedDate');
ok t_cmp($e->{quantity}, 12.5, 'quantity');
ok t_cmp($e->{productExternalId}, 'ITEM-1', 'productExternalId');
ok t_cmp($e->{name}, 'BN-1', 'name is the batchNumber');

$r = post(batches => [
    { externalId => 'B-1', productExternalId => 'ITEM-1', batchNumber => 'BN-1b' },
    { externalId => 'B-2', productExternalId => 'ITEM-2', batchNumber => 'BN-2',
      quantity => 7 },
    { externalId => 'B-3', productExternalId => 'ITEM-2', batchNumber => 'BN-3',
      quantity => 0.1 },
    { externalId => 'B-4', productExternalId => 'NOPE', batchNumber => 'BN-4' },
], autoCreateDDS => JSON::PP::true());
$b = json_of($r);
ok t_cmp("$b->{created}/$b->{updated}", '2/1', 'mixed batch request');
ok t_cmp(join(',', sort map { $_->{batchExternalId} } @{ $b->{ddsCreated} }),
         'B-2,B-3', 'DDS only for created batches');
ok t_cmp(join(',', sort map { $_->{ddsNumber} } @{ $b->{ddsCreated} }),
         "DDS-$year-00002,DDS-$year-00003", 'numbers follow on');
ok t_cmp(api(GET => '/batches/B-2', token => $tok)->content,
         qr/"quantity":7(\.0)?,/, 'an integer quantity');
ok t_cmp(get_json('/batches/B-3')->{quantity}, 0.1, 'a fractional quantity');
$r = post(batches => [ { externalId => 'B-5', productExternalId => 'ITEM-2',
                         batchNumber => 'BN-5' } ]);
ok t_cmp(json_of($r)->{ddsCreated}, [], 'no DDS without autoCreateDDS');

# DDS numbering under concurrent requests: no gaps, no duplicates.
my @numbers = grep { length } in_parallel(4, sub {
    my ($k) = @_;
    my @recs = map { { externalId => "C-$k-$_", productExternalId => 'ITEM-2',
                       batchNumber => "C$k$_" } } 1 .. 5;
    my $res = post(batches => \@recs, autoCreateDDS => JSON::PP::true());
    return join("\n", map { $_->{ddsNumber} }
                @{ json_of($res)->{ddsCreated} || [] });
});
my %uniq = map { $_ => 1 } @numbers;
ok t_cmp(scalar @numbers, 20, '20 DDS from 4 concurrent requests');
ok t_cmp(scalar keys %uniq, 20, 'no duplicate number');
ok t_cmp(join(',', sort keys %uniq),
         join(',', map { sprintf "DDS-$year-%05d", $_ } 4 .. 23),
         'no gap');
# The other organization goes on from its own last number (2), not this
# one's (23).
$r = post_x(batches => [ { externalId => 'X-B-3', productExternalId => 'X-ITEM',
                           batchNumber => 'X3' } ], autoCreateDDS => JSON::PP::true());
ok t_cmp(join(',', map { $_->{ddsNumber} } @{ json_of($r)->{ddsCreated} || [] }),
         "DDS-$year-00003", 'numbers follow on per organization');

# DDS status, before and after integration-admin dds set-status.
my $d = get_json('/dds/B-1');
ok t_cmp($d->{ddsStatus}, 'DRAFT', 'DDS status DRAFT');
ok t_cmp($d->{ddsNumber}, "DDS-$year-00001", 'DDS number');
ok t_cmp($d->{product}{name}, 'Planks', 'product');
ok t_cmp($d->{supplier}{country}, 'BR', 'supplier');
ok is_null($d->{ddsSubmissions}[0], 'submittedAt', 'not submitted yet');
$d = get_json('/dds/B-5');
ok is_null($d, 'ddsStatus', 'no DDS: no status')
    && is_null($d, 'ddsNumber', 'no DDS: no number');
ok t_cmp($d->{ddsSubmissions}, [], 'no submissions');
ok is_null(get_json('/dds/B-2'), 'supplier', 'product without supplier');

my ($rc, $out) = admin('dds', 'set-status', '--org', $t->{org}, 'B-1',
                       'SUBMITTED');
ok t_cmp($rc, 0, 'set-status');
ok t_cmp($out, "DDS-$year-00001\n", 'prints the DDS number');
$d = get_json('/dds/B-1');
ok t_cmp($d->{ddsStatus}, 'SUBMITTED', 'now SUBMITTED');
ok t_cmp($d->{ddsSubmissions}[0]{submittedAt}, qr/^\d{4}-/, 'submittedAt set');
($rc) = admin('dds', 'set-status', '--org', $t->{org}, 'B-1', 'SHIPPED');
ok t_cmp($rc, 1, 'unknown status refused');
($rc) = admin('dds', 'set-status', '--org', $t->{org}, 'NOPE', 'DRAFT');
ok t_cmp($rc, 2, 'unknown batch');
($rc, $out) = admin('dds', 'set-status', '--org', $t->{org}, 'B-5', 'DRAFT');
ok t_cmp($out, qr/^DDS-$year-\d{5}\n/, 'first DDS created by set-status');
ok t_cmp(get_json('/dds/B-5')->{ddsStatus}, 'DRAFT', 'and shown');

$r = api(GET => '/dds/UNKNOWN', token => $tok);
ok t_cmp($r->code, 404, 'unknown batch DDS');
ok t_cmp(json_of($r)->{message}, 'No batch found with externalId "UNKNOWN"',
         'exact 404 message');
post(batches => [ { externalId => 'LOT/2024/001', productExternalId => 'ITEM-2',
                    batchNumber => 'L' } ], autoCreateDDS => JSON::PP::true());
ok t_cmp(get_json(path_of('dds', 'LOT/2024/001'))->{ddsStatus}, 'DRAFT',
         'DDS path is URL-decoded');

# Deletes and their 409s.
$r = api(DELETE => '/products/ITEM-1', token => $tok);
ok t_cmp($r->code, 409, 'product with batches');
ok t_cmp(json_of($r)->{error}, 'CONFLICT', 'CONFLICT');
ok t_cmp(get_json('/products/ITEM-1')->{externalId}, 'ITEM-1', 'still there');
$r = api(DELETE => '/batches/B-1', token => $tok);
ok t_cmp($r->code, 409, 'batch with a SUBMITTED DDS');
admin('dds', 'set-status', '--org', $t->{org}, 'B-1', 'APPROVED');
ok t_cmp(api(DELETE => '/batches/B-1', token => $tok)->code, 409,
         'batch with an APPROVED DDS');
admin('dds', 'set-status', '--org', $t->{org}, 'B-1', 'REJECTED');
ok t_cmp(api(DELETE => '/batches/B-1', token => $tok)->code, 200,
         'a REJECTED one may go');
ok t_cmp(api(DELETE => '/batches/B-2', token => $tok)->code, 200,
         'a DRAFT one may go');
ok t_cmp(api(GET => '/dds/B-2', token => $tok)->code, 404, 'with its DDS');
# The products listing, answered (and kept) before the supplier goes,
# shows the reference gone after it.
sub listed_item {
    my $l = json_ok(api(GET => '/products?limit=100', token => $tok));
    my ($p) = grep { $_->{externalId} eq 'ITEM-1' } @{ $l ? $l->{entities} : [] };
    return $p;
}
listed_item() for 1 .. 6;
$r = api(DELETE => '/suppliers/VENDOR-1', token => $tok);
ok t_cmp($r->code, 200, 'supplier delete');
ok is_null(json_ok(api(GET => '/products/ITEM-1', token => $tok)),
           'supplierExternalId', 'deleting a supplier unlinks its products');
ok !grep { !is_null(listed_item(), 'supplierExternalId', 'and the listing') }
    1 .. 6;

# Tenant isolation of the new routes.
my $o = tenant(name => 'Other');
for my $path ('/products/ITEM-2', '/batches/B-3', '/dds/B-3') {
    ok t_cmp(api(GET => $path, token => $o->{token})->code, 404,
             "other organization: GET $path");
}
ok t_cmp(api(DELETE => '/products/ITEM-2', token => $o->{token})->code, 404,
         'other organization cannot delete');
$r = api(POST => '/batches', token => $o->{token}, body => { batches => [
    { externalId => 'X', productExternalId => 'ITEM-2', batchNumber => 'X' } ] });
ok t_cmp(json_of($r)->{errors}[0]{error}, qr/not found/,
         "another organization's product cannot be named");
