# Limits of API.md sections 1, 4 and 5, each on both sides: accepted just
# at the edge, refused just past it with its message. Every string field of
# the three resources (mi_resource.c: 255 characters; address and
# description 2000; certifications 50 of 255), externalId, references,
# the Idempotency-Key (1 to 255), the body (IntegrationMaxBodySize, 1M
# here) and the listing's limit (100; more is clamped, API.md section 5).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use HTTP::Request ();
use MI::Test;

my $t = tenant();
my $tok = $t->{token};
my $n = 0;

sub post {
    my ($res, @records) = @_;
    return api(POST => "/$res", token => $tok, body => { $res => \@records });
}

# The stored record (a 2xx JSON object, or undef).
sub stored {
    my ($res, $id) = @_;
    my $r = api(GET => path_of($res, $id), token => $tok);
    return undef unless $r->code == 200;
    my $b = eval { decode_json($r->content) };
    return ref $b eq 'HASH' ? $b : undef;
}

# The record is created and its field reads back as sent: 2 checks.
sub accepted {
    my ($res, $rec, $field, $what) = @_;
    my $b = json_of(post($res, $rec));
    ok t_cmp(($b->{created} // -1) . ' ' . ($b->{records}[0]{status} // '-'),
             '1 CREATED', "$what: accepted");
    my $e = stored($res, $rec->{externalId});
    my $got = $e ? $e->{$field} : undef;
    $got = join("\n", @$got) if ref $got eq 'ARRAY';
    my $want = $rec->{$field};
    $want = join("\n", @$want) if ref $want eq 'ARRAY';
    ok t_cmp($got, $want, "$what: stored as sent");
}

# The record fails with MESSAGE and nothing is written: 3 checks.
sub refused {
    my ($res, $rec, $message, $what) = @_;
    my $b = json_of(post($res, $rec));
    ok t_cmp($b->{errors}[0]{error}, $message, "$what: $message");
    ok t_cmp(($b->{created} // -1) + ($b->{updated} // -1) . ' '
             . ($b->{records}[0]{status} // '-'), '0 ERROR', "$what: not written");
    ok t_cmp(api(GET => path_of($res, $rec->{externalId}), token => $tok)->code,
             404, "$what: not stored");
}

my $s255 = 'a' x 255;
my $s256 = 'a' x 256;
my $too_long = sub { "$_[0] must be at most $_[1] characters" };

# The plain string fields of each resource with their limit, and a valid
# record to put them in.
my %base = (
    suppliers => sub { { externalId => "LS-$_[0]", name => 's' } },
    products  => sub { { externalId => "LP-$_[0]", name => 'p' } },
    batches   => sub { { externalId => "LB-$_[0]", productExternalId => 'LIM-P',
                         batchNumber => 'b' } },
);
my %fields = (
    suppliers => [ [ name => 255 ], [ code => 255 ], [ address => 2000 ],
                   [ city => 255 ], [ state => 255 ], [ postalCode => 255 ],
                   [ website => 255 ], [ taxId => 255 ],
                   [ contactPerson => 255 ], [ phone => 255 ] ],
    products  => [ [ name => 255 ], [ category => 255 ], [ hsCode => 255 ],
                   [ unit => 255 ], [ code => 255 ], [ description => 2000 ] ],
    batches   => [ [ batchNumber => 255 ], [ unit => 255 ] ],
);

my $checks = 0;
$checks += @{ $fields{$_} } * 5 for keys %fields;    # 2 accepted + 3 refused
$checks += 3 * 5;        # externalId of each resource
$checks += 5 + 8 + 3;    # email, certifications (count and each), country
$checks += 5 + 5 + 6;    # supplierExternalId, productExternalId, dates
$checks += 3;            # the records the references name
$checks += 3 * 2 + 2 + 4;        # Idempotency-Key
$checks += 6;            # body size
$checks += 7;            # listing limit
plan tests => $checks, have_lwp;

# A product for the batches.
ok t_cmp(json_of(post(products => { externalId => 'LIM-P', name => 'p' }))->{created},
         1, 'a product for the batches');

for my $res (sort keys %fields) {
    for my $f (@{ $fields{$res} }) {
        my ($name, $max) = @$f;
        $n++;
        accepted($res, { %{ $base{$res}->($n) }, $name => 'a' x $max }, $name,
                 "$res $name of $max");
        $n++;
        refused($res, { %{ $base{$res}->($n) }, $name => 'a' x ($max + 1) },
                $too_long->($name, $max), "$res $name of " . ($max + 1));
    }
    # externalId: 255 (read back by its path too), 256.
    my $id = substr("$res-" . $s255, 0, 255);
    my $rec = { %{ $base{$res}->(0) }, externalId => $id };
    my $b = json_of(post($res, $rec));
    ok t_cmp(($b->{created} // -1) . ' ' . ($b->{records}[0]{externalId} // '-'),
             "1 $id", "$res externalId of 255: accepted");
    ok t_cmp((stored($res, $id) // {})->{externalId}, $id,
             "$res externalId of 255: read back by its path");
    refused($res, { %$rec, externalId => substr("$res-" . $s256, 0, 256) },
            $too_long->('externalId', 255), "$res externalId of 256");
}

# Fields with a format: the length is checked first, so that 256
# characters are refused by the length rule whatever they hold.
$n++;
accepted(suppliers => { %{ $base{suppliers}->($n) },
                        email => ('e' x 249) . '@b.com' }, 'email',
         'an email of 255');
$n++;
refused(suppliers => { %{ $base{suppliers}->($n) },
                       email => ('e' x 250) . '@b.com' },
        $too_long->('email', 255), 'an email of 256');
$n++;
accepted(suppliers => { %{ $base{suppliers}->($n) },
                        certifications => [ map { sprintf('%03d', $_) . ('c' x 252) }
                                            1 .. 50 ] },
         'certifications', '50 certifications of 255');
$n++;
refused(suppliers => { %{ $base{suppliers}->($n) },
                       certifications => [ ('c') x 51 ] },
        'certifications must have at most 50 items', '51 certifications');
$n++;
refused(suppliers => { %{ $base{suppliers}->($n) },
                       certifications => [ 'ok', $s256 ] },
        $too_long->('certifications', 255), 'a certification of 256');
$n++;
refused(suppliers => { %{ $base{suppliers}->($n) }, country => 'B' x 256 },
        $too_long->('country', 255), 'a country of 256');

# References of 255 characters name records whose externalId has 255;
# 256 is the length rule, not "not found".
my $sup = 'S' x 255;
my $prod = 'P' x 255;
ok t_cmp(json_of(post(suppliers => { externalId => $sup, name => 's' }))->{created},
         1, 'a supplier with an externalId of 255');
ok t_cmp(json_of(post(products => { externalId => $prod, name => 'p' }))->{created},
         1, 'a product with an externalId of 255');
$n++;
accepted(products => { %{ $base{products}->($n) }, supplierExternalId => $sup },
         'supplierExternalId', 'supplierExternalId of 255');
$n++;
refused(products => { %{ $base{products}->($n) },
                      supplierExternalId => 'S' x 256 },
        $too_long->('supplierExternalId', 255), 'supplierExternalId of 256');
$n++;
accepted(batches => { %{ $base{batches}->($n) }, productExternalId => $prod },
         'productExternalId', 'productExternalId of 255');
$n++;
refused(batches => { %{ $base{batches}->($n) }, productExternalId => 'P' x 256 },
        $too_long->('productExternalId', 255), 'productExternalId of 256');
$n++;
refused(batches => { %{ $base{batches}->($n) }, receivedDate => '2' x 256 },
        $too_long->('receivedDate', 255), 'receivedDate of 256');
$n++;
refused(batches => { %{ $base{batches}->($n) }, expiryDate => '2' x 256 },
        $too_long->('expiryDate', 255), 'expiryDate of 256');

# ---- Idempotency-Key: 1 to 255 printable ASCII characters ---------------

my $idem_msg = 'Idempotency-Key must be 1 to 255 printable ASCII characters';
for my $key ('k', 'K' x 255, join('', map { chr } 0x21 .. 0x7e)) {
    my $len = length $key;
    my $body = { suppliers => [ { externalId => "IK-$len", name => 'k' } ] };
    my $r1 = api(POST => '/suppliers', token => $tok, body => $body,
                 headers => { 'Idempotency-Key' => $key });
    ok t_cmp($r1->code . ' ' . (json_of($r1)->{created} // '-'), '200 1',
             "a key of $len characters is taken");
    my $r2 = api(POST => '/suppliers', token => $tok, body => $body,
                 headers => { 'Idempotency-Key' => $key });
    ok t_cmp(($r2->header('Idempotent-Replayed') // 'no') . ' '
             . ($r2->content eq $r1->content ? 'same' : 'different'),
             'true same', "a key of $len characters replays");
}
{
    my $r = api(POST => '/suppliers', token => $tok,
                body => { suppliers => [ { externalId => 'IK-256', name => 'k' } ] },
                headers => { 'Idempotency-Key' => 'K' x 256 });
    ok t_cmp($r->code . ' ' . (json_of($r)->{error} // '-'), '400 VALIDATION_ERROR',
             'a key of 256 characters is refused');
    ok t_cmp(json_of($r)->{message}, $idem_msg, 'with its message');
    # The keys of 255 and 256 differ only past the 255th character: had the
    # longer one been cut to 255, it would have been taken for the other
    # (422 for this body), not refused.
    ok t_cmp(api(GET => '/suppliers/IK-256', token => $tok)->code, 404,
             'and nothing was written');
    # A key is compared whole: the key of 255 with its last character
    # changed is another key.
    $r = api(POST => '/suppliers', token => $tok,
             body => { suppliers => [ { externalId => 'IK-255', name => 'k' } ] },
             headers => { 'Idempotency-Key' => ('K' x 254) . 'L' });
    ok t_cmp(($r->header('Idempotent-Replayed') // 'no') . ' '
             . (json_of($r)->{updated} // '-'), 'no 1',
             'a key differing in its 255th character is another key');
}
{
    my $r = api(POST => '/suppliers', token => $tok, body => { suppliers => [] },
                headers => { 'Idempotency-Key' => '' });
    ok t_cmp($r->code, 400, 'an empty key is refused');
    ok t_cmp(json_of($r)->{message}, $idem_msg, 'with its message');
}

# ---- the body: exactly IntegrationMaxBodySize, and one byte more --------

my $max = 1024 * 1024;
my $head = '{"suppliers":[{"externalId":"BODY-EDGE","name":"b"}],"pad":"';
my $edge = $head . ('p' x ($max - length($head) - 2)) . '"}';
die "edge body is " . length($edge) unless length $edge == $max;
my $r = api(POST => '/suppliers', token => $tok, body => $edge);
ok t_cmp($r->code . ' ' . (json_of($r)->{created} // '-'), '200 1',
         "a body of exactly $max bytes is read");
$r = api(POST => '/suppliers', token => $tok,
         body => $head . ('p' x ($max - length($head) - 1)) . '"}');
ok t_cmp($r->code, 413, 'one byte more is 413');
ok t_cmp(json_of($r)->{error}, 'PAYLOAD_TOO_LARGE', 'PAYLOAD_TOO_LARGE');
# The same, chunked (no Content-Length: the limit is found while reading).
for my $extra (0, 1) {
    my $h = $head =~ s/BODY-EDGE/BODY-CHUNK-$extra/r;
    my $body = $h . ('p' x ($max + $extra - length($h) - 2)) . '"}';
    die "chunked body is " . length($body) unless length $body == $max + $extra;
    my @parts = unpack '(a65536)*', $body;
    my $req = HTTP::Request->new(POST => url_of('/suppliers'), [
        Authorization => "Bearer $tok", 'Content-Type' => 'application/json' ]);
    $req->content(sub { shift @parts });
    my $res = LWP::UserAgent->new(timeout => 30)->request($req);
    ok t_cmp($res->code, $extra ? 413 : 200, 'chunked: '
             . ($extra ? 'one byte more is 413' : "exactly $max bytes is read"));
}
ok t_cmp(api(GET => '/suppliers/BODY-CHUNK-0', token => $tok)->code, 200,
         'the chunked body at the limit was written');

# ---- the listing's limit: 100 is the most; 101 is clamped to it ---------

{
    my $lt = tenant();
    my @recs = map { { externalId => sprintf('LIM-%03d', $_), name => 'l' } } 1 .. 101;
    my $res = api(POST => '/suppliers', token => $lt->{token},
                  body => { suppliers => \@recs });
    ok t_cmp(json_of($res)->{created}, 101, '101 records to list');
    for my $c ([ 100, 100 ], [ 101, 100 ], [ 1, 1 ]) {
        my ($ask, $get) = @$c;
        $res = api(GET => "/suppliers?limit=$ask", token => $lt->{token});
        my $l = json_of($res);
        ok t_cmp($res->code . ' limit=' . ($l->{limit} // '-'), "200 limit=$get",
                 "limit=$ask answers limit $get");
        ok t_cmp(scalar @{ $l->{entities} || [] }, $get, "limit=$ask: $get entities");
    }
}
