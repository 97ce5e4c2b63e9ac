# Cursor pagination (API.md section 5): nextCursor on every listing, a walk
# by cursor while another client writes (every unchanged record once, every
# written one after the place it moved to), and every cursor refused with
# 400 VALIDATION_ERROR "cursor is invalid": another organization's, another
# resource's, truncated, altered, too long; page with cursor; since and
# limit with cursor; /sync-status?entityType= by cursor.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Time::HiRes ();
use MI::Test;

plan tests => 51, have_lwp;

my $t = tenant(name => 'Cursor walk');
my $tok = $t->{token};
my $other = tenant(name => 'Cursor other')->{token};

sub post { my ($tk, $what, @recs) = @_;
           api(POST => "/$what", token => $tk, body => { $what => [@recs] }) }
sub get { api(GET => $_[0], token => $_[1] // $tok) }
sub invalid {
    my ($r, $what) = @_;
    my $b = json_of($r);
    ok t_cmp($r->code, 400, "$what: 400");
    ok t_cmp("$b->{error}: $b->{message}", 'VALIDATION_ERROR: cursor is invalid',
             "$what: the message");
}

# 40 suppliers in one write (one lastSyncedAt, ordered by internalId), and
# a product, so that there is another resource to page.
my $r = post($tok, 'suppliers',
             map { { externalId => sprintf('W%02d', $_), name => "n$_" } } 1 .. 40);
ok t_cmp($r->code, 200, '40 suppliers');
post($tok, 'suppliers', { externalId => 'P-SUP', name => 'x' });
ok t_cmp(post($tok, 'products', { externalId => 'P1', name => 'p' },
              { externalId => 'P2', name => 'p' })->code, 200, 'two products');
post($other, 'suppliers', { externalId => 'W01', name => 'theirs' });

# Page mode still works and carries nextCursor; the cursor of page 1 goes
# on where page 2 starts.
my $p1 = json_of(get('/suppliers?limit=5'));
my $p2 = json_of(get('/suppliers?limit=5&page=2'));
ok t_cmp($p1->{page}, 1, 'page 1 says page 1');
ok t_cmp($p1->{nextCursor} // '', qr/^[A-Za-z0-9_-]{20,256}$/,
         'a page has an opaque nextCursor');
my $c1 = json_of(get("/suppliers?limit=5&cursor=$p1->{nextCursor}"));
ok t_cmp(join(',', map { $_->{externalId} } @{ $c1->{entities} }),
         join(',', map { $_->{externalId} } @{ $p2->{entities} }),
         'its cursor continues where page 2 starts');
ok is_null($c1, 'page', 'a cursor page says page null');
ok t_cmp($c1->{total}, 41, 'total counts every record, not the page');
ok t_cmp($c1->{limit}, 5, 'limit as asked');

# The last page: nextCursor null; a page that ends exactly at the last
# record says so too (no empty page after it).
my $all = json_of(get('/suppliers?limit=100'));
ok t_cmp(scalar @{ $all->{entities} }, 41, 'all in one page');
ok is_null($all, 'nextCursor', 'the only page: nextCursor null');
my $exact = json_of(get('/suppliers?limit=41'));
ok is_null($exact, 'nextCursor', 'a page ending at the last record: null');
my $short = json_of(get('/suppliers?limit=40'));
my $last = json_of(get("/suppliers?limit=40&cursor=$short->{nextCursor}"));
ok t_cmp(scalar @{ $last->{entities} }, 1, 'the last page by cursor');
ok is_null($last, 'nextCursor', 'the last page: nextCursor null');

# A walk by cursor while another client writes: updates of records before
# the walk's place, after it, and new records; the writers end before the
# walk does.
my @plan = (['W03', 'u'], ['N01', 'c'], ['W30', 'u'], ['W12', 'u'],
            ['N02', 'c'], ['W40', 'u'], ['W01', 'u'], ['N03', 'c']);
my %written = map { $_->[0] => 1 } @plan;
my @walk;
my $page = json_of(get('/suppliers?limit=4'));
push @walk, @{ $page->{entities} };
# Two writers at once, each one record per request, 30 ms apart: what
# commits later is later in the order, whichever took its time first.
my @pids;
for my $half ([ @plan[0 .. 3] ], [ @plan[4 .. 7] ]) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        Apache::TestRequest::user_agent(reset => 1, keep_alive => 1);
        for my $w (@$half) {
            Time::HiRes::sleep(0.03);
            post($tok, 'suppliers', { externalId => $w->[0], name => 'written' });
        }
        POSIX::_exit(0);
    }
    push @pids, $pid;
}
my $pages = 1;
my $bad = 0;
while (defined $page->{nextCursor}) {
    Time::HiRes::sleep(0.02);
    # Halfway, the writers are let finish: every write falls inside the
    # walk.
    if ($pages == 6) { waitpid $_, 0 for splice @pids }
    my $res = get("/suppliers?limit=4&cursor=$page->{nextCursor}");
    $bad++ if $res->code != 200;
    $page = json_of($res);
    push @walk, @{ $page->{entities} || [] };
    last if ++$pages > 100;
}
waitpid $_, 0 for @pids;
ok t_cmp($bad, 0, 'every page of the walk 200');
my %count;
$count{ $_->{externalId} }++ for @walk;
my @unchanged = grep { !$written{$_} } map { $_->{externalId} } @{ $all->{entities} };
ok t_cmp(join(',', grep { ($count{$_} // 0) != 1 } @unchanged), '',
         'every unchanged record listed exactly once');
my $final = json_of(get('/suppliers?limit=100'));
my %now = map { $_->{externalId} => $_ } @{ $final->{entities} };
my @missed = grep {
    my $ext = $_;
    !grep { $_->{externalId} eq $ext
            && $_->{lastSyncedAt} eq $now{$ext}{lastSyncedAt} } @walk
} sort keys %written;
ok t_cmp(join(',', @missed), '', 'every written record listed at its new place');
my @order = map { "$_->{lastSyncedAt} $_->{internalId}" } @walk;
ok t_cmp(join("\n", @order), join("\n", sort @order),
         'the walk goes forward in (lastSyncedAt, internalId)');
my @dups = grep { ($count{$_} // 0) > 1 } sort keys %count;
ok t_cmp(scalar(grep { !$written{$_} } @dups), 0,
         'only written records listed twice');
ok t_cmp(scalar(keys %count), 44, 'the walk saw every record (41 and 3 new)');

# since and limit with a cursor: the filter holds on every page.
my $mark = $now{W30}{lastSyncedAt};
my $since = json_of(get("/suppliers?limit=2&since=$mark"));
my @s = @{ $since->{entities} };
my $guard = 0;
while (defined $since->{nextCursor} && $guard++ < 20) {
    $since = json_of(get("/suppliers?limit=2&since=$mark&cursor=$since->{nextCursor}"));
    push @s, @{ $since->{entities} };
}
ok t_cmp(scalar(grep { $_->{lastSyncedAt} le $mark } @s), 0,
         'since with cursor: nothing at or before since');
ok t_cmp(scalar @s, scalar(grep { $_->{lastSyncedAt} gt $mark } values %now),
         'since with cursor: everything after it');
ok t_cmp($since->{total}, scalar @s, 'since with cursor: total honours since');
# A since later than the cursor's place: the page starts at since.
my $early = json_of(get("/suppliers?limit=2&since=$mark&cursor=$p1->{nextCursor}"));
my $first = json_of(get("/suppliers?limit=2&since=$mark"));
ok t_cmp(join(',', map { $_->{externalId} } @{ $early->{entities} }),
         join(',', map { $_->{externalId} } @{ $first->{entities} }),
         'a cursor before since: the page starts after since');

# Refused cursors.
my $c = $p1->{nextCursor};
invalid(get("/suppliers?cursor=$c", $other), "another organization's cursor");
invalid(get("/products?cursor=$c"), "another resource's cursor");
invalid(get('/suppliers?cursor=' . substr($c, 0, length($c) - 3)), 'truncated');
my $alt = $c;
substr($alt, 10, 1) = substr($alt, 10, 1) eq 'A' ? 'B' : 'A';
invalid(get("/suppliers?cursor=$alt"), 'one character altered');
invalid(get('/suppliers?cursor=' . ('A' x 300)), 'over 256 characters');
invalid(get('/suppliers?cursor=%21%21%21%21'), 'not base64url');
invalid(get('/suppliers?cursor='), 'empty');
$r = get("/suppliers?page=2&cursor=$c");
my $b = json_of($r);
ok t_cmp($r->code, 400, 'page with cursor: 400');
ok t_cmp("$b->{error}: $b->{message}",
         'VALIDATION_ERROR: page cannot be combined with cursor',
         'page with cursor: the message');
my $pc = json_of(get('/products?limit=1'));
ok t_cmp(get("/products?cursor=$pc->{nextCursor}")->code, 200,
         "a products cursor is good for products");

# /sync-status?entityType= takes cursors the same way, of the same type.
my $ss = json_of(get('/sync-status?entityType=SUPPLIER&limit=5'));
ok t_cmp($ss->{nextCursor} // '', qr/^[A-Za-z0-9_-]+$/, 'sync-status: nextCursor');
my $ss2 = json_of(get("/sync-status?entityType=SUPPLIER&limit=5&cursor=$ss->{nextCursor}"));
ok t_cmp(join(',', map { $_->{externalId} } @{ $ss2->{entities} }),
         join(',', map { $_->{externalId} } @{ $final->{entities} }[5 .. 9]),
         'sync-status: the next five by cursor');
ok is_null($ss2, 'page', 'sync-status by cursor: page null');
my $ids = json_of(get('/sync-status?entityType=SUPPLIER&externalIds=W01,W02,W05&limit=2'));
my $ids2 = json_of(get("/sync-status?entityType=SUPPLIER&externalIds=W01,W02,W05&limit=2"
                       . "&cursor=$ids->{nextCursor}"));
ok t_cmp(join(',', sort map { $_->{externalId} }
                   @{ $ids->{entities} }, @{ $ids2->{entities} }),
         'W01,W02,W05', 'sync-status externalIds by cursor');
ok is_null($ids2, 'nextCursor', 'sync-status externalIds: last page null');
invalid(get("/sync-status?entityType=PRODUCT&cursor=$c"),
        'sync-status: a cursor of another type');
invalid(get("/sync-status?entityType=SUPPLIER&cursor=$c", $other),
        "sync-status: another organization's cursor");
ok t_cmp(get("/sync-status?entityType=SUPPLIER&cursor=$c")->code, 200,
         'sync-status: a cursor of /suppliers');

# A cursor stays good: the place it names, not a snapshot.
post($tok, 'suppliers', { externalId => 'W02', name => 'again' });
my $later = json_of(get("/suppliers?limit=5&cursor=$c"));
ok t_cmp($later->{entities}[0]{externalId} // '', qr/^W\d\d$/,
         'an old cursor still continues');
