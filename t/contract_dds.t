# DDS status (API.md section 6) field by field, and the webhook events of
# status changes (section 9), REJECTED included: every member of
# GET /dds/{batch} with its value and JSON type, with and without a
# supplier's country, a product's hsCode, a DDS; the events that
# `integration-admin dds set-status` queues, and their payloads.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep);
use MI::Test;
use MI::Receiver;

plan tests => 25, have_lwp;

my $t = tenant(name => 'DDS contract');
my $tok = $t->{token};
my $year = POSIX::strftime('%Y', gmtime);
my $ISO = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
# A type-strict comparison (MI::Test's is_json), as a test of its own.
sub same { ok is_json(@_) }
sub post { my ($what, $recs, %x) = @_;
           json_of(api(POST => "/$what", token => $tok,
                       body => { $what => $recs, %x })) }
# GET /dds/{batch}, or { _status => CODE } when not a 200.
sub dds { my $r = api(GET => path_of('dds', $_[0]), token => $tok);
          $r->code == 200 ? json_of($r) : { _status => 0 + $r->code } }
sub set_status { my @out = admin('dds', 'set-status', '--org', $t->{org}, @_);
                 chomp $out[1]; return @out }

my $rx = MI::Receiver->start;
my $hook = json_of(api(POST => '/webhook-events', token => $tok, body => {
    url => $rx->url, events => [ qw(dds.status_changed dds.submitted
                                    dds.approved) ] }));
# The requests received after the first $seen, once all of @names came
# (each at least once), or after 8 s; then a further $settle seconds for
# anything that should not come.
sub events_after {
    my ($seen, $settle, @names) = @_;
    $rx->wait_for(sub {
        my @new = @_[$seen .. $#_];
        !grep { my $n = $_; !grep { $_->{headers}{'x-webhook-event'} eq $n } @new }
            @names }, 8);
    sleep $settle if $settle;
    my @all = $rx->requests;
    return @all[$seen .. $#all];
}
sub bodies { map { decode_json($_->{body}) } @_ }
sub names { [ sort map { $_->{headers}{'x-webhook-event'} } @_ ] }

my $s = post(suppliers => [
    { externalId => 'S-GH', name => 'Ghana Cocoa Ltd', country => 'GH' },
    { externalId => 'S-NOC', name => 'No Country Co' } ]);
my %sid = map { $_->{externalId} => $_->{internalId} } @{ $s->{records} };
my $p = post(products => [
    { externalId => 'P-COCOA', name => 'Cocoa beans', hsCode => '1801.00',
      supplierExternalId => 'S-GH' },
    { externalId => 'P-BARE', name => 'Bare product', supplierExternalId => 'S-NOC' } ]);
my %pid = map { $_->{externalId} => $_->{internalId} } @{ $p->{records} };
my $res = post(batches => [
    { externalId => 'B-1', productExternalId => 'P-COCOA', batchNumber => 'BN-001' } ],
    autoCreateDDS => JSON::PP::true());
my $dds = $res->{ddsCreated}[0] // {};
ok t_cmp($dds->{ddsNumber} // '', qr/^DDS-$year-\d{5}$/, 'a DDS draft');
my $b2 = post(batches => [
    { externalId => 'B-2', productExternalId => 'P-BARE', batchNumber => 'BN-002' } ]);

# Every member of a DDS status.
my $d = dds('B-1');
my $created = $d->{ddsSubmissions}[0]{createdAt} // '';
ok t_cmp($created, $ISO, 'createdAt of the submission');
same($d, {
    batchExternalId => 'B-1', batchNumber => 'BN-001',
    internalBatchId => $res->{records}[0]{internalId},
    product => { id => $pid{'P-COCOA'}, name => 'Cocoa beans', hsCode => '1801.00' },
    supplier => { id => $sid{'S-GH'}, name => 'Ghana Cocoa Ltd', country => 'GH' },
    ddsNumber => $dds->{ddsNumber}, ddsStatus => 'DRAFT',
    ddsSubmissions => [ { id => $dds->{ddsId}, status => 'DRAFT',
                          ddsNumber => $dds->{ddsNumber}, submittedAt => undef,
                          createdAt => $created } ] },
     'GET /dds: every field of a batch with a DRAFT');
ok t_cmp($d->{internalBatchId},
         json_of(api(GET => '/batches/B-1', token => $tok))->{internalId},
         'internalBatchId is the batch internalId');
same(dds('B-2'), {
    batchExternalId => 'B-2', batchNumber => 'BN-002',
    internalBatchId => $b2->{records}[0]{internalId},
    product => { id => $pid{'P-BARE'}, name => 'Bare product', hsCode => undef },
    supplier => { id => $sid{'S-NOC'}, name => 'No Country Co', country => undef },
    ddsNumber => undef, ddsStatus => undef, ddsSubmissions => [] },
     'GET /dds: no DDS, no hsCode, no supplier country');

# SUBMITTED: dds.status_changed and dds.submitted.
my $seen = 0;
my ($rc, $out) = set_status('B-1', 'SUBMITTED');
same([ $rc, $out ], [ 0, $dds->{ddsNumber} ], 'set-status SUBMITTED');
my @got = events_after($seen, 0.5, qw(dds.status_changed dds.submitted));
same(names(@got), [ 'dds.status_changed', 'dds.submitted' ],
     'SUBMITTED: dds.status_changed and dds.submitted, nothing else');
my $data = { batchExternalId => 'B-1', ddsNumber => $dds->{ddsNumber},
             previousStatus => 'DRAFT', newStatus => 'SUBMITTED' };
same([ map { $_->{data} } bodies(@got) ], [ $data, $data ], 'their data');
$seen += @got;
my $submitted_at = dds('B-1')->{ddsSubmissions}[0]{submittedAt} // '';
ok t_cmp($submitted_at, $ISO, 'submittedAt set');

# REJECTED: dds.status_changed only.
($rc, $out) = set_status('B-1', 'REJECTED');
same([ $rc, $out ], [ 0, $dds->{ddsNumber} ], 'set-status REJECTED');
@got = events_after($seen, 1, 'dds.status_changed');
same(names(@got), [ 'dds.status_changed' ],
     'REJECTED: dds.status_changed alone');
my ($ev) = bodies(@got);
ok t_cmp($ev->{timestamp} // '', $ISO, 'event timestamp');
same({ %{ $ev // {} }, timestamp => 'T' }, {
    event => 'dds.status_changed', timestamp => 'T',
    integrationId => $t->{integration},
    data => { batchExternalId => 'B-1', ddsNumber => $dds->{ddsNumber},
              previousStatus => 'SUBMITTED', newStatus => 'REJECTED' } },
     'the REJECTED event: envelope and data');
same([ @{ $got[0]{headers} // {} }{qw(x-webhook-event x-webhook-id)} ],
     [ 'dds.status_changed', $hook->{id} ], 'its headers');
$seen += @got;
$d = dds('B-1');
same([ $d->{ddsStatus}, $d->{ddsNumber}, $d->{ddsSubmissions}[0]{status},
       $d->{ddsSubmissions}[0]{submittedAt}, scalar @{ $d->{ddsSubmissions} } ],
     [ 'REJECTED', $dds->{ddsNumber}, 'REJECTED', $submitted_at, 1 ],
     'GET /dds shows REJECTED, submittedAt kept');

# The same status again is no change: no event.
($rc) = set_status('B-1', 'REJECTED');
ok t_cmp($rc, 0, 'REJECTED again');
sleep 1.5;
same(scalar($rx->requests) - $seen, 0, 'no change, no event');

# From REJECTED, submitted again.
set_status('B-1', 'SUBMITTED');
@got = events_after($seen, 0.5, qw(dds.status_changed dds.submitted));
same(names(@got), [ 'dds.status_changed', 'dds.submitted' ],
     'REJECTED to SUBMITTED: both events');
same([ map { $_->{data}{previousStatus} } bodies(@got) ], [ 'REJECTED', 'REJECTED' ],
     'previousStatus REJECTED');
$seen += @got;

# APPROVED then REJECTED.
set_status('B-1', 'APPROVED');
@got = events_after($seen, 0.5, qw(dds.status_changed dds.approved));
same(names(@got), [ 'dds.approved', 'dds.status_changed' ], 'APPROVED: both events');
$seen += @got;
set_status('B-1', 'REJECTED');
@got = events_after($seen, 1, 'dds.status_changed');
same([ map { [ $_->{event}, $_->{data}{previousStatus}, $_->{data}{newStatus} ] }
       bodies(@got) ], [ [ 'dds.status_changed', 'APPROVED', 'REJECTED' ] ],
     'APPROVED to REJECTED: dds.status_changed alone');
$seen += @got;

# A first DDS made REJECTED by set-status: previousStatus null.
($rc, $out) = set_status('B-2', 'REJECTED');
same($rc, 0, 'set-status on a batch without DDS');
ok t_cmp($out, qr/^DDS-$year-\d{5}$/, 'prints the new DDS number');
@got = events_after($seen, 1, 'dds.status_changed');
same([ map { $_->{data} } bodies(@got) ],
     [ { batchExternalId => 'B-2', ddsNumber => $out, previousStatus => undef,
         newStatus => 'REJECTED' } ], 'its one event, previousStatus null');
$seen += @got;
$d = dds('B-2');
same([ $d->{ddsStatus}, $d->{ddsNumber}, $d->{ddsSubmissions}[0]{submittedAt},
       $d->{ddsSubmissions}[0]{status} ], [ 'REJECTED', $out, undef, 'REJECTED' ],
     'never submitted: submittedAt null');

$rx->stop;
