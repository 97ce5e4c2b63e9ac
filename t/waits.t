# Bounded waits (API.md sections 11 and 12): while another process holds a
# lock the API needs (a SQLite write lock, a PostgreSQL table lock), no
# request waits longer than IntegrationDbTimeout (2s in the test
# configuration); each gets 503 with Retry-After, /health answers within
# the bound while every connection is busy, and all is well once the lock
# goes.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Apache::TestRequest ();
use IO::Handle;
use POSIX ();
use Time::HiRes qw(time sleep);
use MI::Test;
use MI::DB;

plan tests => 11, have_lwp;

use constant BOUND => 2.0;      # IntegrationDbTimeout in t/conf
use constant SLACK => 1.0;      # the machine is shared and slow at times
# A request that waited for a connection first may then find the lock
# taken: on SQLite the driver's own retries (1.6 s) then come on top.
use constant DRIVER => db_driver() eq 'sqlite3' ? 1.6 : 0;

my $t = tenant();
my $tok = $t->{token};
sub post {
    my ($id) = @_;
    api(POST => '/suppliers', token => $tok,
        body => { suppliers => [ { externalId => $id, name => 'w' } ] });
}
ok t_cmp(post('W-0')->code, 200, 'a write before the lock');

my $holder = hold_write_lock();

my $t0 = time;
my $r = post('W-1');
my $took = time - $t0;
ok t_cmp($r->code, 503, 'a write that needs the lock gets 503');
ok t_cmp(json_of($r)->{error}, 'SERVICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE');
ok t_cmp(($r->header('Retry-After') // 0) > 0, 1, 'with Retry-After');
ok t_cmp($took < BOUND + SLACK, 1,
         sprintf('within the bound (%.2f s)', $took));
ok t_cmp($took > BOUND / 4, 1, 'after having waited for the lock');

# Many writers at once take every connection; /health still answers in
# time, and so does every writer.
my @lines = in_parallel(12, sub {
    my ($k) = @_;
    my $s = time;
    my $code = $k == 12 ? do { sleep 0.3; api(GET => '/health')->code }
                        : post("W-P$k")->code;
    return sprintf '%d %d %.3f', $k, $code, time - $s;
});
my @took = sort { $a <=> $b } map { (split ' ')[2] } @lines;
printf STDERR "# %s: lone write %.2f s; 12 at once: median %.2f s, "
    . "max %.2f s\n", db_driver(), $took, $took[$#took / 2], $took[-1];
my @late = grep { (split ' ')[2] > BOUND + DRIVER + SLACK } @lines;
ok t_cmp(join('; ', @late), '', 'every request answered within the bound');
my ($health) = grep { /^12 / } @lines;
ok t_cmp((split ' ', $health)[1] =~ /^(200|503)$/ ? 1 : 0, 1,
         "health answered ($health)");

release_write_lock($holder);
$r = post('W-2');
ok t_cmp($r->code, 200, 'writes succeed once the lock is gone');
ok t_cmp(json_of(api(GET => '/suppliers/W-1', token => $tok))->{error},
         'NOT_FOUND', 'the refused write left nothing behind');

# Each request keeps its own virtual host's bound, whoever set up the
# pooled connection it takes: the default server's requests (2 s) have
# just used the connections; one of mi_patient (IntegrationDbTimeout 30s,
# t/conf/extra.conf.in) waits out a lock held for longer than 2 s.
in_parallel(12, sub { api(GET => '/suppliers?limit=1', token => $tok)->code });
$holder = hold_write_lock();
pipe(my $rd, my $wr) or die "pipe: $!";
my $pid = fork // die "fork: $!";
if (!$pid) {
    close $rd;
    Apache::TestRequest::user_agent(reset => 1, keep_alive => 0);
    Apache::TestRequest::module('mi_patient');
    my $s = time;
    my $code = post('W-3')->code;
    printf $wr "%d %.2f\n", $code, time - $s;
    close $wr;
    POSIX::_exit(0);
}
close $wr;
sleep BOUND + SLACK;
release_write_lock($holder);
my ($code, $waited) = split ' ', (<$rd> // '0 0');
waitpid $pid, 0;
ok t_cmp($code, 200, "a virtual host's longer bound holds on a connection "
         . "the default server set up (answered after $waited s)");
