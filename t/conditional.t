# Conditional GET (API.md section 5): an ETag on listings, single records
# and /dds/{id}; If-None-Match that names it is 304 without a body, with the
# rate limit's headers, and still counts; a write changes the tag; another
# organization's tag never matches; Cache-Control: private, no-cache on
# tenant data.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use MI::Test;

plan tests => 47, have_lwp;

my $t = tenant(name => 'Conditional');
my $tok = $t->{token};
my $other = tenant(name => 'Conditional other')->{token};

sub post { my ($tk, $what, $recs, %x) = @_;
           api(POST => "/$what", token => $tk, body => { $what => $recs, %x }) }
sub get { my ($path, %o) = @_;
          api(GET => $path, token => $o{token} // $tok,
              headers => $o{inm} ? { 'If-None-Match' => $o{inm} } : {}) }

# The same data for both organizations: their tags still differ.
for my $tk ($tok, $other) {
    post($tk, 'suppliers', [ { externalId => 'S1', name => 'Same' } ]);
    post($tk, 'products', [ { externalId => 'P1', name => 'Same',
                              supplierExternalId => 'S1' } ]);
    post($tk, 'batches', [ { externalId => 'B1', productExternalId => 'P1',
                             batchNumber => 'BN-1' } ],
         autoCreateDDS => JSON::PP::true());
}

# For each kind of read: a tag, a 304 for it, the tag of the other
# organization differs and does not match.
for my $path ('/suppliers', '/suppliers?limit=1', '/suppliers/S1',
              '/dds/B1', '/sync-status?entityType=BATCH') {
    my $r = get($path);
    my $tag = $r->header('ETag') // '';
    ok t_cmp($tag, qr/^"[A-Za-z0-9_-]{22}"$/, "$path: a strong ETag");
    ok t_cmp($r->header('Cache-Control') // '', 'private, no-cache',
             "$path: Cache-Control");
    my $nm = get($path, inm => $tag);
    ok t_cmp($nm->code, 304, "$path: If-None-Match of it: 304");
    ok t_cmp(length($nm->content), 0, "$path: no body");
    my $theirs = get($path, token => $other)->header('ETag') // '';
    ok t_cmp($theirs ne $tag && $theirs ne '' ? 1 : 0, 1,
             "$path: another organization's tag differs");
    ok t_cmp(get($path, token => $other, inm => $tag)->code, 200,
             "$path: and ours does not match theirs");
}

# The 304 carries the headers that say how it was counted, and counts.
my $tag = get('/suppliers')->header('ETag');
my $a = get('/suppliers', inm => $tag);
my $b = get('/suppliers', inm => $tag);
ok t_cmp($a->header('X-RateLimit-Limit') // '', qr/^\d+$/, '304: X-RateLimit-Limit');
ok t_cmp($b->header('X-RateLimit-Remaining') // -1,
         ($a->header('X-RateLimit-Remaining') // 0) - 1, '304: it counts');
ok t_cmp($a->header('ETag') // '', $tag, '304: the ETag');
ok t_cmp($a->header('Cache-Control') // '', 'private, no-cache', '304: Cache-Control');
ok t_cmp(get('/suppliers', inm => "W/$tag")->code, 304, 'a weak form matches');
ok t_cmp(get('/suppliers', inm => qq{"nope", $tag})->code, 304, 'a list naming it');
ok t_cmp(get('/suppliers', inm => '*')->code, 304, '*');
ok t_cmp(get('/suppliers', inm => '"nope"')->code, 200, 'another tag: 200');
ok t_cmp(get('/suppliers', inm => 'garbage ' . ('x' x 4000))->code, 200,
         'a malformed one: 200');

# A write changes the tags it concerns.
my $rec = get('/suppliers/S1')->header('ETag');
my $dds = get('/dds/B1')->header('ETag');
post($tok, 'suppliers', [ { externalId => 'S1', name => 'Changed' } ]);
my $r = get('/suppliers', inm => $tag);
ok t_cmp($r->code, 200, 'after a write: the listing 200');
ok t_cmp(($r->header('ETag') // '') ne $tag ? 1 : 0, 1, 'with a new tag');
$r = get('/suppliers/S1', inm => $rec);
ok t_cmp($r->code, 200, 'after a write: the record 200');
ok t_cmp(json_of($r)->{name}, 'Changed', 'its new state');
# The DDS shows the supplier's name.
ok t_cmp(get('/dds/B1', inm => $dds)->code, 200,
         "after a write of its supplier: /dds 200");
my $dds2 = get('/dds/B1')->header('ETag');
admin('dds', 'set-status', '--org', $t->{org}, 'B1', 'SUBMITTED');
ok t_cmp(get('/dds/B1', inm => $dds2)->code, 200, 'after set-status: /dds 200');

# Errors carry no tag.
$r = get('/suppliers/NOPE');
ok t_cmp($r->code, 404, 'an unknown record: 404');
ok !defined $r->header('ETag');
