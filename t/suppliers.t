# Suppliers end to end (API.md sections 4, 5 and 7): bulk upsert, update
# semantics, every validation message, listing, single records, deletes.
use strict;
use warnings FATAL => 'all';
use utf8;
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use MI::Test;

plan tests => 129, have_lwp;

my $t = tenant();
my $tok = $t->{token};

sub post { api(POST => '/suppliers', token => $tok, body => { suppliers => [@_] }) }
sub list { json_of(api(GET => "/suppliers$_[0]", token => $tok)) }

# One record.
my $r = post({ externalId => 'VENDOR-001', name => 'Amazon Timber Co.',
               country => 'BR', city => 'Manaus', certifications => ['FSC'],
               isEuOrigin => JSON::PP::false(), email => 'sales@amazon-timber.br',
               taxId => 'BR-123', description => 'ignored' });
my $b = json_of($r);
ok t_cmp($r->code, 200, 'POST of one supplier');
ok is_json($b->{success}, JSON::PP::true(), 'success');
ok t_cmp($b->{created}, 1, 'created 1');
ok t_cmp($b->{updated}, 0, 'updated 0');
ok t_cmp(scalar @{ $b->{errors} }, 0, 'no errors');
ok t_cmp($b->{records}[0]{status}, 'CREATED', 'status CREATED');
ok t_cmp($b->{records}[0]{internalId}, qr/^c[0-9a-z]{24}$/, 'cuid-like id');
my $id = $b->{records}[0]{internalId};

# Read it back.
$r = api(GET => '/suppliers/VENDOR-001', token => $tok);
my $e = json_ok($r);
ok t_cmp($r->code, 200, 'GET single record');
ok t_cmp($e->{internalId}, $id, 'same internal id');
ok t_cmp($e->{name}, 'Amazon Timber Co.', 'name');
ok t_cmp($e->{country}, 'BR', 'country');
ok t_cmp($e->{city}, 'Manaus', 'city kept');
ok t_cmp($e->{taxId}, 'BR-123', 'taxId kept');
ok t_cmp(join(',', @{ $e->{certifications} }), 'FSC', 'certifications');
ok is_json($e->{isEuOrigin}, JSON::PP::false(), 'isEuOrigin');
ok t_cmp($e->{syncStatus}, 'SYNCED', 'syncStatus');
ok t_cmp($e->{lastSyncedAt}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
         'lastSyncedAt format');
ok is_absent($e, 'description', 'unknown fields are not kept');

# Update: present overwrites, null clears, absent keeps; id stable.
$r = post({ externalId => 'VENDOR-001', name => 'Amazon Timber Company',
            city => undef });
$b = json_of($r);
ok t_cmp($b->{created}, 0, 'update: created 0');
ok t_cmp($b->{updated}, 1, 'update: updated 1');
ok t_cmp($b->{records}[0]{status}, 'UPDATED', 'status UPDATED');
ok t_cmp($b->{records}[0]{internalId}, $id, 'internalId stable');
$e = json_ok(api(GET => '/suppliers/VENDOR-001', token => $tok));
ok t_cmp($e->{name}, 'Amazon Timber Company', 'present field overwritten');
ok is_null($e, 'city', 'null cleared the city');
ok t_cmp($e->{country}, 'BR', 'absent field kept');
ok t_cmp($e->{email}, 'sales@amazon-timber.br', 'absent email kept');

# Mixed request: created, updated, failed, in input order.
$r = post({ externalId => 'VENDOR-002', name => 'Two' },
          { externalId => 'VENDOR-001', name => 'One again' },
          { externalId => 'VENDOR-005' },
          { name => 'no id' });
$b = json_of($r);
ok t_cmp($b->{created}, 1, 'mixed: created');
ok t_cmp($b->{updated}, 1, 'mixed: updated');
ok t_cmp(join(',', map { $_->{status} } @{ $b->{records} }),
         'CREATED,UPDATED,ERROR,ERROR', 'statuses in input order');
ok t_cmp($b->{errors}[0]{externalId}, 'VENDOR-005', 'error names the record');
ok t_cmp($b->{errors}[0]{error}, 'Supplier name is required', 'public message');
ok t_cmp($b->{records}[2]{internalId}, '', 'failed record has no id');
ok t_cmp($b->{errors}[1]{externalId}, '', 'missing externalId reported as ""');
ok t_cmp($b->{errors}[1]{error}, 'externalId is required', 'externalId message');

# Duplicate externalId in one request: the first is processed.
$r = post({ externalId => 'DUP', name => 'first' },
          { externalId => 'DUP', name => 'second' });
$b = json_of($r);
ok t_cmp($b->{created}, 1, 'duplicate: first created');
ok t_cmp($b->{errors}[0]{error}, 'Duplicate externalId "DUP" in request',
         'duplicate message');
ok t_cmp(json_of(api(GET => '/suppliers/DUP', token => $tok))->{name}, 'first',
         'the first one was written');

# Every validation message.
my @cases = (
    [ { name => '' }, 'Supplier name is required' ],
    [ { name => undef }, 'Supplier name is required' ],
    [ { name => 5 }, 'name must be a string' ],
    [ { name => 'x', country => 'XX' }, 'Invalid country code "XX"' ],
    [ { name => 'x', country => 'br' }, 'Invalid country code "br"' ],
    [ { name => 'x', country => 'BRA' }, 'Invalid country code "BRA"' ],
    [ { name => 'x', country => 7 }, 'country must be a string' ],
    [ { name => 'x', email => 'nope' }, 'Invalid email "nope"' ],
    [ { name => 'x', email => 'a@b' }, 'Invalid email "a@b"' ],
    [ { name => 'x', isEuOrigin => 'yes' }, 'isEuOrigin must be a boolean' ],
    [ { name => 'x', certifications => 'FSC' },
      'certifications must be a array of strings' ],
    [ { name => 'x', certifications => [ 'FSC', 3 ] },
      'certifications must be a array of strings' ],
    [ { name => 'x', certifications => [ ('c') x 51 ] },
      'certifications must have at most 50 items' ],
    [ { name => 'x', certifications => [ 'c' x 256 ] },
      'certifications must be at most 255 characters' ],
    [ { name => 'n' x 256 }, 'name must be at most 255 characters' ],
    [ { name => 'x', address => 'a' x 2001 },
      'address must be at most 2000 characters' ],
    [ { name => 'x', phone => [] }, 'phone must be a string' ],
    [ { name => "a\x{0}b" }, 'name must not contain NUL characters' ],
);
my $n = 0;
for my $c (@cases) {
    $n++;
    $r = post({ externalId => "BAD-$n", %{ $c->[0] } });
    $b = json_of($r);
    ok t_cmp($b->{errors}[0]{error}, $c->[1], "validation: $c->[1]");
    ok t_cmp($b->{created} + $b->{updated}, 0, "validation $n wrote nothing");
}
$r = post({ externalId => 'x' x 256, name => 'x' });
ok t_cmp(json_of($r)->{errors}[0]{error},
         'externalId must be at most 255 characters', 'externalId length');
$r = post({ externalId => 42, name => 'x' });
ok t_cmp(json_of($r)->{errors}[0]{error}, 'externalId is required',
         'numeric externalId');
$r = api(POST => '/suppliers', token => $tok, body => '{"suppliers":[7]}');
ok t_cmp(json_of($r)->{errors}[0]{error}, 'Record must be a JSON object',
         'non-object record');

# Limits are characters, not bytes: 255 two-byte characters fit.
$r = post({ externalId => 'UTF-8', name => 'é' x 255, country => 'DE' });
ok t_cmp(json_of($r)->{created}, 1, '255 non-ASCII characters fit');
$e = json_of(api(GET => '/suppliers/UTF-8', token => $tok));
ok t_cmp($e->{name}, 'é' x 255, 'non-ASCII round trip');

# 500 records in one request; 501 writes nothing.
my @many = map { { externalId => sprintf('BULK-%04d', $_), name => "S $_" } }
           1 .. 500;
$r = post(@many);
ok t_cmp($r->code, 200, '500 records accepted');
ok t_cmp(json_of($r)->{created}, 500, '500 created');
$r = post(@many, { externalId => 'BULK-0501', name => 'one too many' });
ok t_cmp($r->code, 400, '501 records refused');
ok t_cmp(json_of($r)->{error}, 'TOO_MANY_RECORDS', 'TOO_MANY_RECORDS');
ok t_cmp(json_of($r)->{message}, qr/500.*501/, 'message names limit and count');
$r = api(GET => '/suppliers/BULK-0501', token => $tok);
ok t_cmp($r->code, 404, 'nothing of the 501 was written');
$r = post(map { { %$_, name => "$_->{name} v2" } } @many);
ok t_cmp(json_of($r)->{updated}, 500, '500 updated');

# An empty array is valid and writes nothing.
$r = post();
ok t_cmp($r->code, 200, 'empty array');
ok t_cmp(json_of($r)->{created}, 0, 'empty array creates nothing');

# Listing: total, default and clamped limit, pages, order.
my $l = list('');
ok t_cmp($l->{total}, 504, 'total counts every record');
ok t_cmp($l->{limit}, 50, 'default limit 50');
ok t_cmp($l->{page}, 1, 'default page 1');
ok t_cmp(scalar @{ $l->{entities} }, 50, 'a page of 50');
$l = list('?limit=1000');
ok t_cmp($l->{limit}, 100, 'limit clamped to 100');
ok t_cmp(scalar @{ $l->{entities} }, 100, '100 entities');
my @all;
for my $page (1 .. 6) {
    push @all, @{ list("?limit=100&page=$page")->{entities} };
}
ok t_cmp(scalar @all, 504, 'paging reaches every record');
my %seen = map { $_->{internalId} => 1 } @all;
ok t_cmp(scalar keys %seen, 504, 'without repeats');
my $ordered = 1;
for my $i (1 .. $#all) {
    my ($p, $c) = @all[$i - 1, $i];
    $ordered = 0 if $p->{lastSyncedAt} gt $c->{lastSyncedAt}
        || ($p->{lastSyncedAt} eq $c->{lastSyncedAt}
            && $p->{internalId} ge $c->{internalId});
}
ok $ordered;    # lastSyncedAt, then internalId, ascending
ok t_cmp(scalar @{ list('?page=99')->{entities} }, 0, 'page past the end');
ok t_cmp(list('?page=99')->{total}, 504, 'total on an empty page');

# since: strictly after.
my $last = $all[-1]{lastSyncedAt};
ok t_cmp(list("?since=$last")->{total}, 0, 'nothing after the newest');
sleep 1;
post({ externalId => 'LATE-1', name => 'late' });
$l = list("?since=$last");
ok t_cmp($l->{total}, 1, 'since finds the later write');
ok t_cmp($l->{entities}[0]{externalId}, 'LATE-1', 'and only it');
ok t_cmp(list('?since=2000-01-01')->{total}, 505, 'since as a date');
(my $offset = $last) =~ s/Z$/%2B00:00/;
ok t_cmp(list("?since=$offset")->{total}, 1, 'since with an offset');

for my $q ('page=0', 'page=-1', 'page=abc', 'limit=0', 'limit=x',
           'since=yesterday', 'since=2024-13-01') {
    $r = api(GET => "/suppliers?$q", token => $tok);
    ok t_cmp(json_of($r)->{error}, 'VALIDATION_ERROR', "bad query $q");
}

# externalIds with slashes, spaces, # and ?, non-ASCII: encoded paths.
for my $x ('LOT/2024/001', 'with space', 'a#b?c', 'Überseeholz-Ä', '100%') {
    post({ externalId => $x, name => "odd $x" });
    $r = api(GET => path_of('suppliers', $x), token => $tok);
    ok t_cmp(json_of($r)->{externalId}, $x, "GET by encoded id: $x");
}
$r = api(GET => '/suppliers/bad%zz', token => $tok);
ok t_cmp($r->code, 400, 'malformed escape is 400');

# Unknown record and delete.
$r = api(GET => '/suppliers/NOPE', token => $tok);
ok t_cmp($r->code, 404, 'unknown record is 404');
ok t_cmp(json_of($r)->{message}, 'No supplier found with externalId "NOPE"',
         '404 message');
$r = api(DELETE => path_of('suppliers', 'LOT/2024/001'), token => $tok);
ok t_cmp($r->code, 200, 'delete');
$r = api(GET => path_of('suppliers', 'LOT/2024/001'), token => $tok);
ok t_cmp($r->code, 404, 'deleted record is gone');
$r = api(DELETE => path_of('suppliers', 'LOT/2024/001'), token => $tok);
ok t_cmp($r->code, 404, 'second delete is 404');

# New and known records interleaved across the write chunks, with errors
# among them: each gets its own status, in request order.
my @mixed = map {
    $_ % 7 == 0 ? { externalId => "MIX-$_" }
    : $_ % 2    ? { externalId => "MIX-$_", name => "new $_" }
    :             { externalId => sprintf('BULK-%04d', $_), name => "v3 $_" }
} 1 .. 300;
{
    # A tenant of its own, knowing the even BULK records up to 300.
    my $other = tenant();
    my $post = sub { api(POST => '/suppliers', token => $other->{token},
                         body => { suppliers => [@_] }) };
    $post->(map { { externalId => sprintf('BULK-%04d', 2 * $_), name => 'x' } }
            1 .. 150);
    $b = json_of($post->(@mixed));
    $r = api(GET => '/suppliers/BULK-0298', token => $other->{token});
    ok t_cmp(json_of($r)->{name}, 'v3 298',
             'a known record of the last chunk updated');
    $r = api(GET => '/suppliers/MIX-299', token => $other->{token});
    ok t_cmp(json_of($r)->{name}, 'new 299',
             'a new record of the last chunk created');
}
my @want = map { $_ % 7 == 0 ? 'ERROR' : $_ % 2 ? 'CREATED' : 'UPDATED' }
           1 .. 300;
ok t_cmp(join(',', map { $_->{status} } @{ $b->{records} }), join(',', @want),
         'statuses in request order across chunks');
ok t_cmp("$b->{created}/$b->{updated}/" . scalar @{ $b->{errors} },
         join('/', scalar(grep { $_ eq 'CREATED' } @want),
              scalar(grep { $_ eq 'UPDATED' } @want),
              scalar(grep { $_ eq 'ERROR' } @want)), 'counts across chunks');

# A listing answered once is not answered again after a write that leaves
# the total as it was: the oldest record, updated, ends the last page.
my $total = list('?limit=1')->{total};
my $last_page = int(($total + 99) / 100);
list("?limit=100&page=$last_page");
my $oldest = list('?limit=1')->{entities}[0];
post({ externalId => $oldest->{externalId}, name => 'renamed' });
my $l2 = list("?limit=100&page=$last_page");
ok t_cmp($l2->{total}, $total, 'the total is unchanged');
ok t_cmp("$l2->{entities}[-1]{externalId} $l2->{entities}[-1]{name}",
         "$oldest->{externalId} renamed", 'an update is listed at once');

# Concurrent requests naming the same records in opposite orders: every one
# succeeds (rows are written in one order, whatever the request's, so
# PostgreSQL's row locks cannot deadlock).
{
    my @codes = map { split ' ' } in_parallel(4, sub {
        my ($k) = @_;
        my @ids = map { sprintf('ORDER-%03d', $_) } 1 .. 200;
        @ids = reverse @ids if $k % 2;
        return join(' ', map {
            my $i = $_;
            post(map { { externalId => $_, name => "k$k i$i" } } @ids)->code
        } 1 .. 6);
    });
    ok t_cmp(join(',', @codes), join(',', (200) x 24),
             '24 concurrent upserts of the same records in opposite orders');
    # Each client's last request is its sixth: whichever committed last,
    # that is what is stored.
    ok t_cmp(json_of(api(GET => '/suppliers/ORDER-100', token => $tok))->{name},
             qr/^k[1-4] i6$/, 'the last write is what is stored');
}
