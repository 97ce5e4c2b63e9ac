# Idempotency-Key rows of API.md section 4 that t/idempotency.t leaves
# open: a key lives 24 hours (the stored row says so; made older in the
# database, it is replayed until its expiry and forgotten after it), and
# what happens to a key whose first request failed: an answer whose
# records all failed is the first response and is replayed as it was; a
# request refused before it was processed (400/413/415: no response of
# the endpoint) or that got 503 leaves the key free for the retry.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use IO::Handle;
use Time::HiRes qw(time sleep);
use MI::Test;
use MI::DB;

plan tests => 32, have_lwp;

my $t = tenant();
my $tok = $t->{token};
my $org = $t->{org};

sub logs_total { json_of(api(GET => '/sync-logs', token => $tok))->{total} // -1 }
sub post_key {
    my ($key, $body, $res) = @_;
    $res //= 'suppliers';
    return api(POST => "/$res", token => $tok, body => $body,
               headers => { 'Idempotency-Key' => $key });
}
# The stored row of a key: { created, expires, state, status }, or undef.
sub key_row {
    my ($key) = @_;
    my @rows = db_rows("SELECT created_at, expires_at, state, "
        . "COALESCE(response_status, 0) FROM idempotency_keys "
        . "WHERE organization_id = '$org' AND idem_key = '$key'");
    return undef unless @rows;
    my %r;
    @r{qw(created expires state status)} = @{ $rows[0] };
    return \%r;
}
sub set_expiry {
    my ($key, $ms) = @_;
    db_rows("UPDATE idempotency_keys SET expires_at = $ms "
            . "WHERE organization_id = '$org' AND idem_key = '$key'");
}
sub now_ms { int(time() * 1000) }
sub replayed { ($_[0]->header('Idempotent-Replayed') // 'no') eq 'true' ? 1 : 0 }

# ---- 24 hours -------------------------------------------------------------

my $body = { suppliers => [ { externalId => 'TTL-1', name => 'first' } ] };
my $before = now_ms();
my $r1 = post_key('ttl-1', $body);
ok t_cmp($r1->code . ' ' . (json_of($r1)->{created} // '-'), '200 1',
         'the first request');
my $row = key_row('ttl-1');
ok t_cmp($row ? "$row->{state} $row->{status}" : 'no row', 'DONE 200',
         'its answer is stored under the key');
ok t_cmp($row->{expires} - $row->{created}, 24 * 3600 * 1000,
         'for 24 hours');
ok t_cmp($row->{created} >= $before - 1000 && $row->{created} <= now_ms() + 1000
         ? 1 : 0, 1, 'from the time of the request');

# A minute before its expiry the key still replays.
set_expiry('ttl-1', now_ms() + 60_000);
my $logs = logs_total();
my $r = post_key('ttl-1', $body);
ok t_cmp(replayed($r), 1, 'a minute before the expiry: replayed');
ok t_cmp($r->content, $r1->content, 'byte for byte');
$r = post_key('ttl-1', { suppliers => [] });
ok t_cmp($r->code, 422, 'and another body under it is still 422');
ok t_cmp(logs_total(), $logs, 'nothing was written');

# Expired: the same body is a new request (written again), and so is
# another body (not 422).
set_expiry('ttl-1', now_ms() - 1000);
$r = post_key('ttl-1', $body);
ok t_cmp(replayed($r), 0, 'after the expiry: not a replay');
ok t_cmp($r->code . ' ' . (json_of($r)->{updated} // '-'), '200 1',
         'the request is processed again');
ok t_cmp(logs_total(), $logs + 1, 'and writes its sync log');
$row = key_row('ttl-1');
ok t_cmp($row && $row->{expires} > now_ms() + 23 * 3600 * 1000 ? 1 : 0, 1,
         'the key lives 24 hours again');
set_expiry('ttl-1', now_ms() - 1);
$r = post_key('ttl-1', { suppliers => [ { externalId => 'TTL-2', name => 'x' } ] });
ok t_cmp($r->code . ' ' . (json_of($r)->{created} // '-'), '200 1',
         'after the expiry another body is processed, not 422');
ok t_cmp(replayed(post_key('ttl-1', { suppliers => [ { externalId => 'TTL-2',
         name => 'x' } ] })), 1, 'the renewed key replays');

# ---- a first response whose records all failed is replayed --------------

my $bad = { batches => [ { externalId => 'ERR-B', productExternalId => 'ERR-P',
                           batchNumber => 'n' } ] };
$logs = logs_total();
my $e1 = post_key('err-1', $bad, 'batches');
my $eb = json_of($e1);
ok t_cmp($e1->code . ' ' . ($eb->{created} // '-') . ' '
         . ($eb->{records}[0]{status} // '-'), '200 0 ERROR',
         'every record failed');
ok t_cmp($eb->{errors}[0]{error},
         'Product with externalId "ERR-P" not found. Sync products first.',
         'with its message');
ok t_cmp(logs_total(), $logs + 1, 'the failed request has its sync log');
# What failed would now succeed; the retry still gets the first response.
api(POST => '/products', token => $tok,
    body => { products => [ { externalId => 'ERR-P', name => 'p' } ] });
$logs = logs_total();
my $e2 = post_key('err-1', $bad, 'batches');
ok t_cmp($e2->code, 200, 'the retry: 200');
ok t_cmp(replayed($e2), 1, 'a replay');
ok t_cmp($e2->content, $e1->content, 'of the failed answer, byte for byte');
ok t_cmp(logs_total(), $logs, 'the replay wrote no sync log');
ok t_cmp(api(GET => '/batches/ERR-B', token => $tok)->code, 404,
         'and no batch');

# ---- refused before processing: no response stored, the key stays free --

for my $c ([ '400 shape', '{"suppliers":{}}', {}, 400 ],
           [ '400 JSON', '{"suppliers":[', {}, 400 ],
           [ '415', '{"suppliers":[]}', { 'Content-Type' => 'text/plain' }, 415 ]) {
    my ($what, $raw, $h, $status) = @$c;
    my $key = "free-$what";
    $r = api(POST => '/suppliers', token => $tok, body => $raw,
             headers => { %$h, 'Idempotency-Key' => $key });
    ok t_cmp($r->code . ' ' . (key_row($key) ? 'stored' : 'not stored'),
             "$status not stored", "$what: the key is not taken");
    $r = post_key($key, { suppliers => [ { externalId => "FREE-$status",
                                           name => 'f' } ] });
    ok t_cmp(replayed($r) . ' ' . $r->code, '0 200',
             "$what: the corrected request under the key is processed");
}

# ---- 503: the key is given back -------------------------------------------

# Another session holds the lock the write needs (as in t/waits.t): the
# request gets 503 after IntegrationDbTimeout; its claim on the key (on
# PostgreSQL written before the write waits) is given back, so that the
# retry is processed, not told IDEMPOTENCY_KEY_IN_USE.
{
    my $holder = hold_write_lock();
    my $b503 = { suppliers => [ { externalId => 'RETRY-1', name => 'r' } ] };
    $r = post_key('after-503', $b503);
    ok t_cmp($r->code . ' ' . (json_of($r)->{error} // '-'),
             '503 SERVICE_UNAVAILABLE', 'a keyed write that cannot get the lock');
    release_write_lock($holder);
    ok t_cmp(key_row('after-503') ? 'stored' : 'free', 'free',
             'the key is free again');
    $r = post_key('after-503', $b503);
    ok t_cmp(replayed($r) . ' ' . $r->code . ' ' . (json_of($r)->{created} // '-'),
             '0 200 1', 'the retry is processed');
    ok t_cmp(replayed(post_key('after-503', $b503)), 1,
             'and then replays');
}
