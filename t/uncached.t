# Listings without the listing cache (IntegrationListCache 0, the
# mi_uncached virtual host), where a page's rows bring the version that
# tags them: every kind of listing answers there exactly as the default
# server does, body and ETag (pages by offset and by cursor to the end,
# since, externalIds, another resource, an empty page, an organization with
# no records); If-None-Match is 304 there, and a write changes the tag.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Apache::TestRequest ();
use MI::Test;

plan tests => 16, have_lwp;

my $tok = tenant(name => 'Uncached')->{token};
my $empty = tenant(name => 'Uncached, no records')->{token};

sub get { my ($where, $path, %o) = @_;
          local $Apache::TestRequest::Module = $where;
          api(GET => $path, token => $o{token} // $tok,
              headers => $o{inm} ? { 'If-None-Match' => $o{inm} } : {}) }
# The answer of each server as [status, ETag, body]: the uncached one's,
# then the default server's (its listing cache on).
sub both { my ($path, %o) = @_;
           map { my $r = get($_, $path, %o);
                 [ $r->code, $r->header('ETag') // '', $r->content ] }
               'mi_uncached', undef }
sub same_as_cached {
    my ($path, %o) = @_;
    my ($u, $c) = both($path, %o);
    ok t_cmp(join("\n", @$u), join("\n", @$c),
             "$path: the same answer without the cache");
    return json_of(get('mi_uncached', $path, %o));
}

api(POST => '/suppliers', token => $tok, body => { suppliers => [
    map { { externalId => sprintf('U-%02d', $_), name => "Uncached $_",
            ($_ % 2 ? (city => 'Odd') : ()) } } 1 .. 7 ] });
api(POST => '/products', token => $tok, body => { products => [
    { externalId => 'UP-1', name => 'Product', supplierExternalId => 'U-01' } ] });

# Pages by offset, the last one short, one past the end.
same_as_cached("/suppliers?limit=3&page=$_") for 1 .. 4;
# By cursor, to the end.
my $page = same_as_cached('/suppliers?limit=3');
my $walked = @{ $page->{entities} };
for (1 .. 5) {
    last unless defined $page->{nextCursor};
    $page = same_as_cached("/suppliers?limit=3&cursor=$page->{nextCursor}");
    $walked += @{ $page->{entities} };
}
ok t_cmp($walked, 7, 'the walk by cursor lists all 7');
my $mark = json_of(get('mi_uncached', '/suppliers?limit=3'))
               ->{entities}[2]{lastSyncedAt};
same_as_cached("/suppliers?limit=2&since=$mark");
same_as_cached('/sync-status?entityType=SUPPLIER&externalIds=U-02,U-05,U-09');
same_as_cached('/products');
my $none = same_as_cached('/suppliers', token => $empty);
ok t_cmp(join(' ', scalar @{ $none->{entities} }, $none->{total}), '0 0',
         'no records: an empty page, total 0');

# Conditional GET without the cache.
my $r = get('mi_uncached', '/suppliers?limit=3');
my $tag = $r->header('ETag') // '';
ok t_cmp(get('mi_uncached', '/suppliers?limit=3', inm => $tag)->code, 304,
         'If-None-Match with the tag: 304');
api(POST => '/suppliers', token => $tok, body => { suppliers => [
    { externalId => 'U-01', name => 'Renamed' } ] });
$r = get('mi_uncached', '/suppliers?limit=3', inm => $tag);
ok t_cmp(join(' ', $r->code, ($r->header('ETag') // '') ne $tag ? 'new tag'
                                                                  : 'same tag'),
         '200 new tag', 'after a write: 200 and another tag');
same_as_cached('/suppliers?limit=3');
