# Rate limits (API.md section 3): headers, 429 with Retry-After, and a count
# that holds across connections, threads and child processes. The virtual
# host mi_limited allows 20 requests per 60 seconds.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Apache::TestRequest ();
use LWP::UserAgent ();
use MI::Test;

plan tests => 13, have_lwp;

Apache::TestRequest::module('mi_limited');
my $hostport = Apache::TestRequest::hostport();
my $url = "http://$hostport" . BASE . '/suppliers';

my $t = tenant();
my $ua = LWP::UserAgent->new;
my $r = $ua->get($url, Authorization => "Bearer $t->{token}");
ok t_cmp($r->code, 200, 'first request passes');
ok t_cmp($r->header('X-RateLimit-Limit'), 20, 'limit header');
ok t_cmp($r->header('X-RateLimit-Remaining'), 19, 'remaining header');
my $reset = $r->header('X-RateLimit-Reset');
ok t_cmp($reset - time() <= 61 && $reset - time() >= 58, 1,
         'reset is the end of the window, in epoch seconds');

# 40 more requests from 4 processes, each on its own connections: exactly
# the 19 left succeed.
pipe(my $rd, my $wr) or die "pipe: $!";
my @pids;
for my $p (1 .. 4) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $rd;
        my $child_ua = LWP::UserAgent->new(keep_alive => 0);
        for (1 .. 10) {
            my $res = $child_ua->get($url,
                Authorization => "Bearer $t->{token}");
            syswrite $wr, $res->code . "\n";
        }
        close $wr;
        require POSIX;
        POSIX::_exit(0);
    }
    push @pids, $pid;
}
close $wr;
my %codes;
while (my $line = <$rd>) {
    chomp $line;
    $codes{$line}++;
}
waitpid $_, 0 for @pids;
# prove shows stderr even when it is not verbose.
print STDERR "# status codes seen: ",
    join(', ', map { "$_ x $codes{$_}" } sort keys %codes), "\n"
    unless ($codes{200} // 0) == 19 && ($codes{429} // 0) == 21;
ok t_cmp($codes{200} // 0, 19, 'exactly the limit succeeded');
ok t_cmp($codes{429} // 0, 21, 'the rest were refused');

$r = $ua->get($url, Authorization => "Bearer $t->{token}");
ok t_cmp($r->code, 429, 'over the limit');
ok t_cmp(json_of($r)->{error}, 'RATE_LIMIT_EXCEEDED', '429 code');
ok t_cmp($r->header('Retry-After') > 0, 1, 'Retry-After');
ok t_cmp($r->header('X-RateLimit-Remaining'), 0, 'nothing remaining');

# Another token has its own budget; /health is not counted.
my $other = tenant();
$r = $ua->get($url, Authorization => "Bearer $other->{token}");
ok t_cmp($r->code, 200, 'another token is not limited');
$r = $ua->get("http://$hostport" . BASE . '/health');
ok t_cmp($r->code, 200, 'health needs no token and no budget');

# The main server's own limit is separate configuration.
Apache::TestRequest::module('default');
$r = api(GET => '/suppliers', token => $t->{token});
ok t_cmp($r->header('X-RateLimit-Limit'), 1000,
         'limits are configured per server');
