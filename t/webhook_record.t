# The outcome of a webhook attempt that cannot be recorded (another
# session holds the lock the record needs, past IntegrationDbTimeout) is
# kept and recorded once the lock is gone: the attempt is not made again
# when its lease ends (API.md section 9: the same attempt is never sent
# twice).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Time::HiRes qw(time sleep);
use MI::Test;
use MI::DB;
use MI::Receiver;

plan tests => 5, have_lwp;

use constant LEASE => 1 + 5;    # IntegrationWebhookTimeout + the margin

my $log = Apache::Test::vars('t_logs') . '/error_log';
my $t = tenant();
my $tok = $t->{token};
my $rx = MI::Receiver->start;
# The answer comes late enough for the lock to be taken before it.
$rx->answer('late 0.7');
my $hook = json_of(api(POST => '/webhook-events', token => $tok,
    body => { url => $rx->url, events => ['supplier.created'] }));
die "no webhook: " . encode_json($hook) unless $hook->{id};
my $log_at = -s $log // 0;

api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'REC-1', name => 'r' } ] });
my @got = $rx->wait_for(sub { @_ >= 1 }, 10);
my $sent_at = time;
ok t_cmp(scalar @got, 1, 'the attempt reached the receiver');
my $holder = hold_write_lock('webhooks', 'webhook_deliveries');
# The record waits IntegrationDbTimeout (2 s), on SQLite and the driver's
# own retries (1.6 s) too, and fails.
sleep 5;
release_write_lock($holder);
# Past the lease: an attempt whose outcome was lost would be sent again.
sleep LEASE + 2 - (time - $sent_at) if time - $sent_at < LEASE + 2;

my %times;
$times{ $_->{headers}{'x-webhook-delivery'} }++ for $rx->requests;
ok t_cmp(scalar(twice_sent($tok, $hook->{id}, %times)), 0,
         'no attempt arrived twice');
my $list = json_of(api(GET => "/webhook-events/$hook->{id}/deliveries",
                       token => $tok));
ok t_cmp(join(',', map { $_->{status} } @{ $list->{data} }), 'DELIVERED',
         'the delivery is recorded as delivered');
my $since = do {
    open my $fh, '<', $log or die "$log: $!";
    seek $fh, $log_at, 0;
    local $/;
    <$fh> // '';
};
ok t_cmp($since, qr/MI00302: recording \d+ webhook deliveries failed/,
         'the record failed while the lock was held');
ok t_cmp($since, qr/MI00308: recorded \d+ webhook deliveries after \d+ failed tries/,
         'and was made once it was gone');
$rx->stop;
