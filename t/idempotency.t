# Idempotency-Key (API.md section 4): replay byte for byte without writing,
# 422 for another body, 409 while the first is running (concurrent requests:
# exactly one writes), keys per organization.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use MI::Test;

plan tests => 22, have_lwp;

my $t = tenant();
my $tok = $t->{token};
sub logs_total { json_of(api(GET => '/sync-logs', token => $_[0] // $tok))->{total} }
sub post_key {
    my ($key, $body, $token) = @_;
    return api(POST => '/suppliers', token => $token // $tok, body => $body,
               headers => { 'Idempotency-Key' => $key });
}

my $body = { suppliers => [ { externalId => 'I-1', name => 'first' } ] };
my $r1 = post_key('key-1', $body);
ok t_cmp($r1->code, 200, 'first request');
ok t_cmp(json_of($r1)->{created}, 1, 'created');
my $logs = logs_total();

# Change the record in between: a replay must not write it back.
api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'I-1', name => 'changed' } ] });
$logs = logs_total();
my $r2 = post_key('key-1', $body);
ok t_cmp($r2->code, 200, 'replay status');
ok t_cmp($r2->content, $r1->content, 'replayed byte for byte');
ok t_cmp($r2->header('Idempotent-Replayed'), 'true', 'marked as a replay');
ok t_cmp(logs_total(), $logs, 'the replay wrote no sync log');
ok t_cmp(json_of(api(GET => '/suppliers/I-1', token => $tok))->{name},
         'changed', 'and did not write the record again');

my $r3 = post_key('key-1', { suppliers => [ { externalId => 'I-1',
                                             name => 'other' } ] });
ok t_cmp($r3->code, 422, 'another body under the same key');
ok t_cmp(json_of($r3)->{error}, 'IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_KEY_REUSED');
$r3 = api(POST => '/products', token => $tok,
          body => { products => [] }, headers => { 'Idempotency-Key' => 'key-1' });
ok t_cmp($r3->code, 422, 'the same key on another endpoint');

# Keys belong to an organization.
my $o = tenant();
my $r4 = post_key('key-1', $body, $o->{token});
ok t_cmp(json_of($r4)->{created}, 1, "another organization's key-1 is its own");

for my $bad ('', 'x' x 256, "caf\x{e9}") {
    my $r = post_key($bad, $body);
    ok t_cmp($r->code, 400, 'bad key: ' . length($bad) . ' characters');
}

# A claim whose request is still running: 409 until it finishes. The claim
# is written straight into the database, as a running request leaves it.
{
    require Digest::SHA;
    my $b = { suppliers => [ { externalId => 'RUN-1', name => 'r' } ] };
    my $raw = encode_json($b);
    my $hash = Digest::SHA::sha256_hex("POST suppliers\n$raw");
    my $now = int(time() * 1000);
    my $sql = "INSERT INTO idempotency_keys (organization_id, idem_key, "
        . "request_hash, state, created_at, expires_at) VALUES "
        . "('$t->{org}', 'key-running', '$hash', 'RUNNING', $now, "
        . ($now + 86400000) . ")";
    if (db_driver() eq 'sqlite3') {
        system('sqlite3', $ENV{MI_DB_PARAMS}, $sql) == 0 or die "sqlite3";
    }
    else {
        my %p = map { split /=/ } split ' ', $ENV{MI_DB_PARAMS};
        system('psql', '-q', '-h', $p{host}, '-p', $p{port}, '-U', $p{user},
               '-d', $p{dbname}, '-c', $sql) == 0 or die "psql";
    }
    my $r = api(POST => '/suppliers', token => $tok, body => $raw,
                headers => { 'Idempotency-Key' => 'key-running' });
    ok t_cmp($r->code, 409, 'the first request is still running');
    ok t_cmp(json_of($r)->{error}, 'IDEMPOTENCY_KEY_IN_USE',
             'IDEMPOTENCY_KEY_IN_USE');
    ok t_cmp(api(GET => '/suppliers/RUN-1', token => $tok)->code, 404,
             'and nothing was written');
}

# Concurrent requests with one key: exactly one writes.
my @many = map { { externalId => sprintf('CC-%04d', $_), name => 'c' } } 1 .. 500;
$logs = logs_total();
my @answers = map { [ split ' ' ] } in_parallel(6, sub {
    my $r = post_key('key-concurrent', { suppliers => \@many });
    my $j = json_of($r);
    return sprintf '%d %s %s', $r->code, $j->{error} // '-',
        $r->code == 200 ? length($r->content) : 0;
});
ok t_cmp(scalar @answers, 6, 'six answers');
ok t_cmp(logs_total(), $logs + 1, 'exactly one of them wrote');
ok t_cmp(scalar(grep { $_->[0] == 200 || ($_->[0] == 409
         && $_->[1] eq 'IDEMPOTENCY_KEY_IN_USE') } @answers), 6,
         'the others replayed or were told the key is in use');
my %lengths = map { $_->[2] => 1 } grep { $_->[0] == 200 } @answers;
ok t_cmp(scalar keys %lengths, 1, 'every 200 is the same response');
my $r5 = post_key('key-concurrent', { suppliers => \@many });
ok t_cmp(json_of($r5)->{created}, 500, 'afterwards: the first response');
