# HTTP/2 with every pool size (the SQLite suite runs with DBDMax 1): h2load
# sends many streams over few h2c connections, and every request completes,
# in bounded time, with no child crashing. -c 1 -m 10 is the case that used
# to deadlock a child (a second stream on one connection waiting forever for
# the one connection its first stream's request pool still held).
# h2load comes with the Debian package nghttp2-client; without it this file
# fails, it does not skip.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Apache::TestRequest ();
use File::Temp qw(tempfile);
use MI::Test;

use constant BOUND => 120;      # seconds for one h2load run, at most
# Connections of the multi-connection runs: fewer than ThreadsPerChild (8 in
# t/conf). An h2c connection holds a worker thread while it has streams in
# flight; when a child has no idle worker left, the event MPM closes that
# child's idle keep-alive connections, h2c ones between two bursts of
# streams included (mod_http2 sends GOAWAY 'timeout'; a bare httpd with
# mod_http2 does the same), and h2load does not retry the requests it had
# not sent yet. With 10 connections one child often takes 8 of them.
use constant CONNS => 6;

# [ what, path, requests, connections, streams per connection, body ]
my $body = encode_json({ suppliers => [
    { externalId => 'H2-UPSERT', name => 'over h2c', country => 'BR' } ] });
my @runs = (
    [ 'sync-status', '/sync-status',        2000, CONNS, 10 ],
    [ 'listing',     '/suppliers?limit=10', 2000, CONNS, 10 ],
    [ 'upsert',      '/suppliers',          2000, CONNS, 10, $body ],
    [ 'listing',     '/suppliers?limit=10', 2000,  1,  2 ],
    [ 'sync-status', '/sync-status',        2000,  1, 10 ],
    [ 'listing',     '/suppliers?limit=10', 2000,  1, 10 ],
    [ 'upsert',      '/suppliers',          2000,  1, 10, $body ],
);

plan tests => 3 * @runs + 3;

my ($h2load) = grep { -x } map { "$_/h2load" } split /:/, $ENV{PATH} // '';
unless ($h2load) {
    my $msg = 'h2load is missing: install the Debian package nghttp2-client';
    print STDERR "# $msg\n";
    ok t_cmp(0, 1, $msg) for 1 .. 3 * @runs + 3;
    exit 0;
}

# mi_h2load: the API without a rate limit (t/conf/extra.conf.in).
Apache::TestRequest::module('mi_h2load');
my $base = 'http://' . Apache::TestRequest::hostport() . BASE;
Apache::TestRequest::module('default');

my $log = Apache::Test::vars('t_logs') . '/error_log';
my $log_start = -s $log // 0;

my $t = tenant();
my $tok = $t->{token};
my $r = api(POST => '/suppliers', token => $tok, body => { suppliers => [
    map { { externalId => "H2-$_", name => "supplier $_" } } 1 .. 20 ] });
die 'seeding failed: ' . $r->status_line unless $r->code == 200;

my ($bfh, $bfile) = tempfile(UNLINK => 1);
print $bfh $body;
close $bfh;

for my $run (@runs) {
    my ($what, $path, $n, $c, $m, $data) = @$run;
    my $name = "$what -n $n -c $c -m $m";
    my @args = ('-n', $n, '-c', $c, '-m', $m,
                '-H', "Authorization: Bearer $tok");
    push @args, '-d', $bfile, '-H', 'Content-Type: application/json'
        if defined $data;
    my ($rc, $out) = run_h2load(@args, "$base$path");
    my %f = figures($out);
    print STDERR "# h2load $name: ",
        join(', ', map { "$_ " . ($f{$_} // '?') }
             qw(requests succeeded seconds req/s)), "\n";
    my $ok = ok t_cmp($rc, 0, "$name: h2load finished within " . BOUND
                      . ' s' . ($rc == 124 ? ' (it did not: timed out)' : ''));
    $ok &= ok t_cmp($f{requests_line} // '',
        "$n total, $n started, $n done, $n succeeded, 0 failed, 0 errored, "
        . '0 timeout', "$name: every request done and succeeded");
    $ok &= ok t_cmp($f{status_2xx} // '', $n, "$name: $n answers 2xx");
    unless ($ok) {
        print STDERR "# $_\n" for split /\n/, $out;
        print STDERR "# httpd children: @{[ children() ]}\n";
    }
}

ok t_cmp(api(GET => path_of(suppliers => 'H2-UPSERT'), token => $tok)->code,
         200, 'the upserted record is there');
ok t_cmp(api(GET => '/health')->code, 200, 'the server still answers');
my @crashes = grep { /exit signal/ } log_since($log_start);
ok t_cmp(join('', @crashes), '', "no child exited on a signal");

# Runs h2load under timeout(1); returns (exit code, its output).
sub run_h2load {
    my @args = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT or die "dup: $!";
        exec 'timeout', BOUND, $h2load, @args or die "exec $h2load: $!";
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    return ($? >> 8, $out);
}

sub figures {
    my ($out) = @_;
    my %f;
    if ($out =~ /^finished in ([\d.]+)(s|ms|us), ([\d.]+) req\/s/m) {
        $f{seconds} = sprintf '%.2f',
            $1 / ({ s => 1, ms => 1e3, us => 1e6 }->{$2});
        $f{'req/s'} = sprintf '%.0f', $3;
    }
    if ($out =~ /^requests: (\d+ total, \d+ started, \d+ done, (\d+) succeeded, \d+ failed, \d+ errored, \d+ timeout)/m) {
        ($f{requests_line}, $f{succeeded}) = ($1, $2);
        ($f{requests}) = $1 =~ /^(\d+)/;
    }
    $f{status_2xx} = $1 if $out =~ /^status codes: (\d+) 2xx/m;
    return %f;
}

sub log_since {
    my ($offset) = @_;
    open my $fh, '<', $log or return;
    seek $fh, $offset, 0;
    return <$fh>;
}

# The pids of the server's children, for a look with gdb at one stuck.
sub children {
    open my $fh, '<', Apache::Test::vars('t_pid_file') or return '?';
    chomp(my $parent = <$fh> // '');
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $s, '<', $stat or next;
        my @f = split ' ', (<$s> // '');
        push @kids, $f[0] if ($f[3] // '') eq $parent;
    }
    return @kids ? @kids : '?';
}
