# Records against API.md sections 4, 5 and 7, field by field: round trips of
# every optional field of suppliers, products and batches (exact value and
# JSON type, by GET of the record and in the listing), update semantics of
# products and batches (present: set, null: cleared, absent: kept), each
# wrong JSON type and bad country refused with its message, the listings'
# order and fields, and tenant isolation of product and batch records.
use strict;
use warnings FATAL => 'all';
use utf8;
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();
use Time::HiRes qw(sleep);
use MI::Test;

plan tests => 171, have_lwp;

my $t = tenant(name => 'Records A');
my $tok = $t->{token};
my $TRUE = JSON::PP::true();
my $FALSE = JSON::PP::false();
my $ISO = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

# Type-strict comparison: both sides as canonical JSON, so that 7 and "7",
# true and 1, null and "" differ. (A decoded value keeps its JSON type as
# long as nothing has used it as a string first.)
# A type-strict comparison (MI::Test's is_json), as a test of its own.
sub same { ok is_json(@_) }
# The members of $e named by $want, an absent one as '<absent>': compared
# with $want, a missing member, or an error body, cannot pass for null.
sub pick { my ($e, $want) = @_;
           return { map { $_ => ref $e eq 'HASH' && exists $e->{$_}
                                    ? $e->{$_} : '<absent>' } keys %$want } }

sub post { my ($what, $recs, %x) = @_;
           api(POST => "/$what", token => $x{token} // $tok,
               body => { $what => $recs }) }
# A record by GET, or { _status => CODE } when the answer is not a 200.
sub record { my ($what, $id, $token) = @_;
             my $r = api(GET => path_of($what, $id), token => $token // $tok);
             return $r->code == 200 ? json_of($r) : { _status => 0 + $r->code } }
sub listing { my ($what, $q, $token) = @_;
              json_of(api(GET => "/$what" . ($q // '?limit=100'),
                          token => $token // $tok)) }
sub listed { my ($what, $id, $token) = @_;
             my ($e) = grep { $_->{externalId} eq $id }
                       @{ listing($what, undef, $token)->{entities} || [] };
             return $e // { _listed => 'no' } }

# ---- Round trips of every optional field --------------------------------
my %supplier = (externalId => 'S-FULL', name => 'Amazon Timber Co.',
    code => 'AMZ-01', country => 'BR', address => "Rua 1, 100\nDistrito \"Sul\"",
    city => 'Manaus', state => 'AM', postalCode => '69000-000',
    website => 'https://amazon-timber.example', taxId => 'BR-12.345/0001',
    contactPerson => 'João Silva', email => 'sales@amazon-timber.example',
    phone => '+55 92 1234-5678', certifications => [ 'FSC', 'PEFC', 'Ré "1"' ],
    isEuOrigin => $TRUE);
my %supplier_min = (externalId => 'S-MIN', name => 'Minimal',
    certifications => [], isEuOrigin => $FALSE);
my $res = json_of(post(suppliers => [ \%supplier, \%supplier_min ]));
same([ map { $_->{status} } @{ $res->{records} || [] } ], [ 'CREATED', 'CREATED' ],
     'suppliers with every field created');
my %sup_id = map { $_->{externalId} => $_->{internalId} } @{ $res->{records} };
my %supplier_null = map { $_ => undef } qw(code country address city state
    postalCode website taxId contactPerson email phone);
for my $where ([ 'GET', \&record ], [ 'listing', \&listed ]) {
    same(pick($where->[1]->(suppliers => 'S-FULL'), \%supplier), \%supplier,
         "supplier: every field round trips ($where->[0])");
    same(pick($where->[1]->(suppliers => 'S-MIN'),
              { %supplier_min, %supplier_null }),
         { %supplier_min, %supplier_null },
         "supplier: an empty array, false, absent fields null ($where->[0])");
}

my %product = (externalId => 'P-FULL', name => 'Brazilian Hardwood Planks',
    category => 'wood', country => 'BR', hsCode => '4407.29', unit => 'm3',
    code => 'SKU-0001', description => "Sawn hardwood, \"kiln dried\"\n€ ✓",
    supplierExternalId => 'S-FULL');
my %product_null = map { $_ => undef } qw(category country hsCode unit code
    description supplierExternalId);
$res = json_of(post(products => [ \%product,
                                { externalId => 'P-MIN', name => 'Beams' } ]));
same([ map { $_->{status} } @{ $res->{records} || [] } ], [ 'CREATED', 'CREATED' ],
     'products created');
my %prod_id = map { $_->{externalId} => $_->{internalId} } @{ $res->{records} };
for my $where ([ 'GET', \&record ], [ 'listing', \&listed ]) {
    my %want = (%product, syncStatus => 'SYNCED', internalId => $prod_id{'P-FULL'});
    same(pick($where->[1]->(products => 'P-FULL'), \%want), \%want,
         "product: every field round trips ($where->[0])");
    %want = (externalId => 'P-MIN', name => 'Beams', %product_null);
    same(pick($where->[1]->(products => 'P-MIN'), \%want), \%want,
         "product: absent fields are null ($where->[0])");
}

my @batches = (
    { externalId => 'B-FRAC', productExternalId => 'P-FULL', batchNumber => 'BN-1',
      quantity => 12.5, unit => 'm3', receivedDate => '2024-02-29',
      expiryDate => '2026-12-31' },
    { externalId => 'B-INT', productExternalId => 'P-FULL', batchNumber => 'BN-2',
      quantity => 7, batchDate => '2024-01-15' },
    { externalId => 'B-ZERO', productExternalId => 'P-MIN', batchNumber => 'BN-3',
      quantity => 0 },
    { externalId => 'B-BIG', productExternalId => 'P-MIN', batchNumber => 'BN-4',
      quantity => 123456789.125 },
    { externalId => 'B-TINY', productExternalId => 'P-MIN', batchNumber => 'BN-5',
      quantity => 2.5e-7 },
    { externalId => 'B-MIN', productExternalId => 'P-MIN', batchNumber => 'BN-6' },
);
$res = json_of(post(batches => \@batches));
same([ map { $_->{status} } @{ $res->{records} || [] } ], [ ('CREATED') x 6 ],
     'batches created');
my %batch_id = map { $_->{externalId} => $_->{internalId} } @{ $res->{records} };
for my $in (@batches) {
    my %want = (externalId => $in->{externalId},
        productExternalId => $in->{productExternalId},
        batchNumber => $in->{batchNumber}, name => $in->{batchNumber},
        quantity => $in->{quantity}, unit => $in->{unit},
        receivedDate => $in->{receivedDate} // $in->{batchDate},
        expiryDate => $in->{expiryDate}, internalId => $batch_id{$in->{externalId}},
        syncStatus => 'SYNCED');
    for my $where ([ 'GET', \&record ], [ 'listing', \&listed ]) {
        same(pick($where->[1]->(batches => $in->{externalId}), \%want), \%want,
             "batch $in->{externalId}: fields round trip ($where->[0])");
    }
}
# The raw text too: a quantity is a JSON number, not a string.
ok t_cmp(api(GET => '/batches/B-INT', token => $tok)->content,
         qr/"quantity":7(\.0)?[,}]/, 'an integer quantity is a bare number');
ok t_cmp(api(GET => '/batches/B-FRAC', token => $tok)->content,
         qr/"quantity":12\.5[,}]/, 'a fractional quantity is a bare number');
{
    my $e = record(products => 'P-FULL');
    ok t_cmp($e->{lastSyncedAt} // '', $ISO, 'lastSyncedAt format');
    ok t_cmp($e->{createdAt} // '', $ISO, 'createdAt format');
    ok t_cmp($e->{updatedAt} // '', $ISO, 'updatedAt format');
}

# ---- Update semantics: present sets, null clears, absent keeps -----------
# Three rounds, each field in turn present, null and absent; each round
# starts from a record with every field set.
sub rounds {
    my ($what, $fixed, $base, $new) = @_;
    my @fields = sort keys %$base;
    for my $k (0 .. 2) {
        my $full = { %$fixed, %$base };
        my $r = json_of(post($what => [ $full ]));
        my $id = $r->{records}[0]{internalId};
        my (%upd, %want) = ();
        %upd = %$fixed;
        %want = (%$fixed, %$base);
        for my $i (0 .. $#fields) {
            my $f = $fields[$i];
            my $role = ($i + $k) % 3;
            if ($role == 0) { $upd{$f} = $want{$f} = $new->{$f} }
            elsif ($role == 1) { $upd{$f} = undef; $want{$f} = undef }
            # role 2: absent, the stored value stays
        }
        $r = json_of(post($what => [ \%upd ]));
        same([ $r->{records}[0]{status}, $r->{records}[0]{internalId} ],
             [ 'UPDATED', $id ], "$what round $k: UPDATED, same internalId");
        same(pick(record($what => $fixed->{externalId}), \%want), \%want,
             "$what round $k: present set, null cleared, absent kept (GET)");
        same(pick(listed($what => $fixed->{externalId}), \%want), \%want,
             "$what round $k: the same in the listing");
    }
}
post(suppliers => [ { externalId => 'S-OTHER', name => 'Other supplier' } ]);
rounds(products => { externalId => 'P-UPD', name => 'Update me' },
       { category => 'cat base', country => 'BR', hsCode => '4407.10',
         unit => 'kg', code => 'C-BASE', description => 'desc base',
         supplierExternalId => 'S-FULL' },
       { category => 'cat new', country => 'DE', hsCode => '4407.99',
         unit => 't', code => 'C-NEW', description => 'desc new',
         supplierExternalId => 'S-OTHER' });
rounds(batches => { externalId => 'B-UPD', productExternalId => 'P-FULL',
                    batchNumber => 'BN-UPD' },
       { quantity => 3.25, unit => 'kg', receivedDate => '2024-01-31',
         expiryDate => '2025-06-30' },
       { quantity => 40, unit => 't', receivedDate => '2024-03-01',
         expiryDate => '2027-01-01' });
{
    # One request whose records carry different fields, new ones and
    # known ones interleaved: each record gets exactly its own (the
    # server writes each set of fields apart, mi_upsert.c).
    my %base = (code => 'C-0', city => 'City 0', email => 'e0@example.com');
    post(suppliers => [ map { { externalId => "S-MIX-$_", name => "Mix $_",
                                %base } } 1 .. 3 ]);
    my @recs = (
        { externalId => 'S-MIX-3', name => 'Mix 3b', city => undef },
        { externalId => 'S-MIX-NEW-B', name => 'New B', city => 'Nb' },
        { externalId => 'S-MIX-1', name => 'Mix 1b', code => 'C-1' },
        { externalId => 'S-MIX-NEW-A', name => 'New A', email => 'a@x.example' },
        { externalId => 'S-MIX-2', name => 'Mix 2b', code => undef,
          email => 'e2@example.com' });
    my $r = json_of(post(suppliers => \@recs));
    same([ $r->{created}, $r->{updated},
           [ map { "$_->{externalId} $_->{status}" } @{ $r->{records} } ] ],
         [ 2, 3, [ 'S-MIX-3 UPDATED', 'S-MIX-NEW-B CREATED', 'S-MIX-1 UPDATED',
                   'S-MIX-NEW-A CREATED', 'S-MIX-2 UPDATED' ] ],
         'mixed fields: counts and each outcome in request order');
    my %want = (
        'S-MIX-1' => { name => 'Mix 1b', code => 'C-1', city => 'City 0',
                       email => 'e0@example.com' },
        'S-MIX-2' => { name => 'Mix 2b', code => undef, city => 'City 0',
                       email => 'e2@example.com' },
        'S-MIX-3' => { name => 'Mix 3b', code => 'C-0', city => undef,
                       email => 'e0@example.com' },
        'S-MIX-NEW-A' => { name => 'New A', code => undef, city => undef,
                           email => 'a@x.example' },
        'S-MIX-NEW-B' => { name => 'New B', code => undef, city => 'Nb',
                           email => undef });
    same({ map { $_ => pick(record(suppliers => $_), $want{$_}) } sort keys %want },
         \%want, 'mixed fields: each record set, cleared and kept as it asked');
}
{
    # The required fields change like any other.
    post(batches => [ { externalId => 'B-UPD', productExternalId => 'P-MIN',
                        batchNumber => 'BN-UPD-2' } ]);
    my %want = (productExternalId => 'P-MIN', batchNumber => 'BN-UPD-2',
                name => 'BN-UPD-2');
    same(pick(record(batches => 'B-UPD'), \%want), \%want,
         'a batch moves to another product, with a new number');
    post(products => [ { externalId => 'P-UPD', name => 'Renamed' } ]);
    same(record(products => 'P-UPD')->{name}, 'Renamed', 'a product renamed');
    # batchDate, the alias, sets receivedDate on an update too.
    post(batches => [ { externalId => 'B-UPD', productExternalId => 'P-MIN',
                        batchNumber => 'BN-UPD-2', batchDate => '2023-12-24' } ]);
    same(record(batches => 'B-UPD')->{receivedDate}, '2023-12-24',
         'batchDate updates receivedDate');
    # An update without a required field fails and changes nothing.
    my $before = record(products => 'P-UPD');
    my $r = json_of(post(products => [ { externalId => 'P-UPD',
                                         category => 'never' } ]));
    same([ $r->{errors}[0]{error}, $r->{updated} ],
         [ 'Product name is required', 0 ], 'update without name refused');
    same(record(products => 'P-UPD'), $before, 'and nothing changed');
    $before = record(batches => 'B-UPD');
    $r = json_of(post(batches => [ { externalId => 'B-UPD',
                                     batchNumber => 'x', unit => 'never' } ]));
    same($r->{errors}[0]{error}, 'productExternalId is required',
         'batch update without productExternalId refused');
    $r = json_of(post(batches => [ { externalId => 'B-UPD', batchNumber => undef,
                                     productExternalId => 'P-MIN' } ]));
    same($r->{errors}[0]{error}, 'Batch number is required',
         'batchNumber null refused');
    same(record(batches => 'B-UPD'), $before, 'and nothing changed');
    # The updatedAt moves, createdAt stays.
    my $p0 = record(products => 'P-UPD');
    sleep 0.01;
    post(products => [ { externalId => 'P-UPD', name => 'Renamed again' } ]);
    my $p1 = record(products => 'P-UPD');
    same([ $p1->{createdAt}, ($p1->{updatedAt} // '') gt ($p0->{updatedAt} // '~')
                             ? 'later' : 'not later' ],
         [ $p0->{createdAt}, 'later' ],
         'an update keeps createdAt and moves updatedAt on');
}

# ---- Wrong JSON types and bad countries ----------------------------------
my @wrong = ([ number => 5 ], [ fraction => 1.5 ], [ boolean => $TRUE ],
             [ array => [ 'x' ] ], [ object => { a => 1 } ]);
my $n = 0;
for my $f (qw(name category country hsCode unit code description
              supplierExternalId)) {
    for my $w (@wrong) {
        $n++;
        my $r = json_of(post(products => [ { externalId => "BADP-$n",
                                             name => 'x', $f => $w->[1] } ]));
        same([ $r->{errors}[0]{error}, $r->{created} ],
             [ "$f must be a string", 0 ], "product $f as a $w->[0]");
    }
}
for my $f (qw(batchNumber productExternalId unit receivedDate expiryDate)) {
    for my $w (@wrong) {
        $n++;
        my $r = json_of(post(batches => [ { externalId => "BADB-$n",
            batchNumber => 'x', productExternalId => 'P-MIN', $f => $w->[1] } ]));
        same([ $r->{errors}[0]{error}, $r->{created} ],
             [ "$f must be a string", 0 ], "batch $f as a $w->[0]");
    }
}
for my $w ([ string => '5' ], [ 'empty string' => '' ], [ boolean => $FALSE ],
           [ array => [ 5 ] ], [ object => { v => 5 } ]) {
    $n++;
    my $r = json_of(post(batches => [ { externalId => "BADB-$n",
        batchNumber => 'x', productExternalId => 'P-MIN', quantity => $w->[1] } ]));
    same([ $r->{errors}[0]{error}, $r->{created} ],
         [ 'quantity must be a number', 0 ], "batch quantity as a $w->[0]");
}
{
    my $r = json_of(post(batches => [ { externalId => 'BADB-ALIAS',
        batchNumber => 'x', productExternalId => 'P-MIN', batchDate => 20240101 } ]));
    same($r->{errors}[0]{error}, 'receivedDate must be a string',
         'batchDate as a number: named as receivedDate');
}
for my $c ('XX', 'br', 'Br', 'BRA', 'B', '', 'UK', 'EU', 'B1', ' BR', 'BR ', 'ÅX') {
    my $r = json_of(post(products => [ { externalId => 'BADC', name => 'x',
                                         country => $c } ]));
    same([ $r->{errors}[0]{error}, $r->{created} ],
         [ "Invalid country code \"$c\"", 0 ], "product country '$c' refused");
}
{
    my $r = json_of(post(products => [ map { { externalId => "CC-$_", name => 'x',
                                              country => $_ } } qw(AX ZW SS GB) ]));
    same([ $r->{created}, $r->{errors} ], [ 4, [] ],
         'assigned codes (AX, ZW, SS, GB) accepted');
}
same([ map { record(products => $_)->{_status} } 'BADP-1', 'BADC' ],
     [ 404, 404 ], 'no refused product was written');
same(record(batches => 'BADB-41')->{_status}, 404, 'no refused batch was written');

# ---- The records of one write, stored in the order a listing reads them --
# (mi_ids_new, mi_upsert.c): given in any order, with the same fields,
# their internal ids ascend with their externalIds.
{
    my $w = tenant(name => 'Write order');
    my @ext = map { sprintf 'W-%03d', $_ } 1 .. 50;
    my @given = @ext[map { ($_ * 37) % 50 } 0 .. 49];
    my $r = json_of(post(suppliers => [ map { { externalId => $_, name => $_ } }
                                        @given ], token => $w->{token}));
    my %id = map { $_->{externalId} => $_->{internalId} }
             @{ $r->{records} || [] };
    same([ sort { $id{$a} cmp $id{$b} } keys %id ], \@ext,
         'one write: the internal ids ascend with the externalIds');
    same([ map { $_->{externalId} }
           @{ listing(suppliers => '?limit=100', $w->{token})->{entities} } ],
         \@ext, 'and a listing reads them in that order');
}

# ---- Listing order and fields --------------------------------------------
{
    my $l = tenant(name => 'Listing order');
    my $p = sub { json_of(post(@_, token => $l->{token})) };
    my %id;
    for my $x (1 .. 3) {
        my $r = $p->(products => [ { externalId => "L-$x", name => "n$x" } ]);
        $id{"L-$x"} = $r->{records}[0]{internalId};
        sleep 0.01;
    }
    my $r = $p->(products => [ map { { externalId => "L-$_", name => "n$_" } }
                              4 .. 6 ]);
    $id{$_->{externalId}} = $_->{internalId} for @{ $r->{records} };
    my $before = listing(products => '?limit=100', $l->{token});
    my %was = map { $_->{externalId} => $_->{lastSyncedAt} }
              @{ $before->{entities} };
    sleep 0.01;
    $p->(products => [ { externalId => 'L-1', name => 'n1 again' } ]);
    my $after = listing(products => '?limit=100', $l->{token});
    my @want = ('L-2', 'L-3',
                (sort { $id{$a} cmp $id{$b} } 'L-4', 'L-5', 'L-6'), 'L-1');
    same([ map { $_->{externalId} } @{ $after->{entities} } ], \@want,
         'products: lastSyncedAt, then internalId, ascending; an update last');
    same([ $after->{total}, $after->{page}, $after->{limit} ], [ 6, 1, 100 ],
         'total, page, limit are numbers');
    my %e = map { $_->{externalId} => $_ } @{ $after->{entities} };
    ok t_cmp(($e{'L-1'}{lastSyncedAt} // '') gt $was{'L-1'} ? 1 : 0, 1,
             'the update moved lastSyncedAt on');
    same([ map { $e{$_}{lastSyncedAt} } 'L-5', 'L-6' ],
         [ $e{'L-4'}{lastSyncedAt}, $e{'L-4'}{lastSyncedAt} ],
         'one request, one lastSyncedAt');
    my @keys = qw(externalId internalId name syncStatus lastSyncedAt
                  category country hsCode unit code description
                  supplierExternalId);
    same([ grep { !exists $e{'L-2'}{$_} } @keys ], [],
         'a product entity has its fields and supplierExternalId');
    same(listing(products => "?since=$e{'L-3'}{lastSyncedAt}", $l->{token})
             ->{total}, 4, 'since: strictly after');
    same([ map { $_->{externalId} } @{ listing(products => '?limit=2&page=2',
                                               $l->{token})->{entities} } ],
         [ @want[2, 3] ], 'page 2 continues the order');

    # Batches the same way.
    %id = ();
    for my $x (1 .. 2) {
        $r = $p->(batches => [ { externalId => "LB-$x", batchNumber => "N$x",
                                 productExternalId => 'L-2' } ]);
        $id{"LB-$x"} = $r->{records}[0]{internalId};
        sleep 0.01;
    }
    $r = $p->(batches => [ map { { externalId => "LB-$_", batchNumber => "N$_",
                                   productExternalId => 'L-3' } } 3 .. 5 ]);
    $id{$_->{externalId}} = $_->{internalId} for @{ $r->{records} };
    sleep 0.01;
    $p->(batches => [ { externalId => 'LB-1', batchNumber => 'N1b',
                        productExternalId => 'L-2' } ]);
    $after = listing(batches => '?limit=100', $l->{token});
    same([ map { $_->{externalId} } @{ $after->{entities} } ],
         [ 'LB-2', (sort { $id{$a} cmp $id{$b} } 'LB-3', 'LB-4', 'LB-5'), 'LB-1' ],
         'batches: lastSyncedAt, then internalId, ascending; an update last');
    %e = map { $_->{externalId} => $_ } @{ $after->{entities} };
    @keys = qw(externalId internalId name syncStatus lastSyncedAt
               batchNumber productExternalId quantity unit receivedDate
               expiryDate);
    same([ grep { !exists $e{'LB-1'}{$_} } @keys ], [],
         'a batch entity has its fields and productExternalId');
    same([ $e{'LB-1'}{name}, $e{'LB-1'}{batchNumber}, $e{'LB-1'}{productExternalId},
           $e{'LB-1'}{syncStatus} ], [ 'N1b', 'N1b', 'L-2', 'SYNCED' ],
         'name is the batchNumber');
}

# ---- Tenant isolation of products and batches ----------------------------
{
    my $o = tenant(name => 'Records B');
    my $otok = $o->{token};
    my $r = json_of(post(products => [ { externalId => 'P-FULL', name => 'B planks',
                                         country => 'DE' } ], token => $otok));
    ok t_cmp($r->{records}[0]{status}, 'CREATED',
             "the same externalId in another organization is a new record");
    ok t_cmp($r->{records}[0]{internalId} ne $prod_id{'P-FULL'} ? 1 : 0, 1,
             'with an internalId of its own');
    my $oprod = $r->{records}[0]{internalId};
    $r = json_of(post(batches => [ { externalId => 'B-FRAC', batchNumber => 'B-N',
        productExternalId => 'P-FULL', quantity => 1 } ], token => $otok));
    ok t_cmp($r->{records}[0]{status}, 'CREATED', 'a batch of the same externalId');
    same(pick(record(products => 'P-FULL'), \%product), \%product,
         "the first organization's product is unchanged");
    same(pick(record(batches => 'B-FRAC'), { quantity => 1, batchNumber => 1 }),
         { quantity => 12.5, batchNumber => 'BN-1' },
         "the first organization's batch is unchanged");
    same(pick(record(products => 'P-FULL', $otok),
              { name => 1, country => 1, internalId => 1, category => 1 }),
         { name => 'B planks', country => 'DE', internalId => $oprod,
           category => undef }, 'each sees its own record by GET');
    $r = json_of(api(GET => '/dds/B-FRAC', token => $otok));
    same($r->{product}{id}, $oprod, "its batch names its own product");

    my $ol = listing(products => '?limit=100', $otok);
    same([ $ol->{total}, [ map { $_->{externalId} } @{ $ol->{entities} } ] ],
         [ 1, [ 'P-FULL' ] ], 'the products listing shows only its own');
    same($ol->{entities}[0]{internalId}, $oprod, 'with its own internalId');
    $ol = listing(batches => '?limit=100', $otok);
    same([ $ol->{total}, [ map { $_->{externalId} } @{ $ol->{entities} } ] ],
         [ 1, [ 'B-FRAC' ] ], 'the batches listing shows only its own');
    same([ listing(products => '?since=2000-01-01', $otok)->{total},
           listing(batches => '?since=2000-01-01', $otok)->{total} ], [ 1, 1 ],
         'since counts only its own');
    same([ map { record($_->[0] => $_->[1], $otok)->{_status} }
           [ products => 'P-MIN' ], [ batches => 'B-INT' ] ], [ 404, 404 ],
         "another organization's records are 404 by GET");
    same([ map { 0 + api(DELETE => path_of(@$_), token => $otok)->code }
           [ batches => 'B-INT' ], [ products => 'P-MIN' ] ], [ 404, 404 ],
         "and by DELETE");
    same([ map { record(@$_)->{_status} // 200 }
           [ batches => 'B-INT' ], [ products => 'P-MIN' ] ], [ 200, 200 ],
         'which deleted nothing');
    my $mine = listing(products => '?limit=100');
    ok t_cmp(scalar(grep { $_->{internalId} eq $oprod } @{ $mine->{entities} }),
             0, "the first organization does not list the other's");
    # Another integration of the same organization sees its records.
    my $i2 = integration($t->{org}, 'WMS');
    same([ listing(products => '?limit=100', $i2->{token})->{total},
           record(batches => 'B-FRAC', $i2->{token})->{internalId} ],
         [ $mine->{total}, $batch_id{'B-FRAC'} ],
         "another integration of the organization sees the organization's records");
}
