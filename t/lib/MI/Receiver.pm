package MI::Receiver;
# A loopback webhook receiver for the tests: records every request it gets
# (headers and raw body) and answers as told: a status code, or "hang"
# (answers nothing for longer than the module waits).
use strict;
use warnings FATAL => 'all';
use IO::Socket::INET ();
use File::Temp qw(tempdir);
use JSON::PP ();
use Time::HiRes qw(time sleep);
use POSIX ();

my $json = JSON::PP->new->utf8->canonical;

sub start {
    my ($class) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => 0, Listen => 64, ReuseAddr => 1) or die "listen: $!";
    my $self = bless { dir => $dir, port => $server->sockport,
                       log => "$dir/requests.jsonl", mode => "$dir/mode" },
                     $class;
    $self->answer(200);
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        # A request that waited in the backlog may be answered after the
        # module gave up on it: writing to that closed socket must not kill
        # the receiver (and lose every later request).
        $SIG{PIPE} = 'IGNORE';
        $self->serve($server);
        POSIX::_exit(0);
    }
    close $server;
    $self->{pid} = $pid;
    return $self;
}

sub url { my ($self, $path) = @_; "http://127.0.0.1:$self->{port}" . ($path // '/hook') }

sub answer {
    my ($self, $mode) = @_;
    open my $fh, '>', "$self->{mode}.tmp" or die $!;
    print $fh $mode;
    close $fh;
    rename "$self->{mode}.tmp", $self->{mode} or die $!;
}

sub serve {
    my ($self, $server) = @_;
    while (my $c = $server->accept) {
        my ($head, $body) = ('', '');
        while (defined(my $line = <$c>)) {
            $head .= $line;
            last if $line eq "\r\n";
        }
        my ($request_line, @lines) = split /\r\n/, $head;
        my %h;
        for (@lines) {
            my ($k, $v) = split /:\s*/, $_, 2;
            $h{lc $k} = $v if defined $v;
        }
        read $c, $body, $h{'content-length'} // 0;
        open my $m, '<', $self->{mode};
        my $mode = <$m> // 200;
        close $m;
        open my $log, '>>', $self->{log} or die $!;
        print $log $json->encode({ line => $request_line // '', headers => \%h,
                                   body => $body, at => time, answer => $mode }),
                   "\n";
        close $log;
        if ($mode eq 'hang') {
            sleep 3;
            close $c;
            next;
        }
        # A mode "302 http://elsewhere/" (answer('302 http://...')) is a
        # status code and a Location header.
        my ($status, $location) = split / /, $mode, 2;
        print $c "HTTP/1.1 $status Answer\r\nContent-Length: 2\r\n"
               . (defined $location ? "Location: $location\r\n" : '')
               . "Connection: close\r\n\r\nok";
        close $c;
    }
}

# Every request received so far, oldest first (in scalar context, how
# many).
sub requests {
    my ($self) = @_;
    my @r;
    if (open my $fh, '<', $self->{log}) {
        @r = map { $json->decode($_) } <$fh>;
        close $fh;
    }
    return wantarray ? @r : scalar @r;
}

sub clear { my ($self) = @_; unlink $self->{log} }

# Waits (at most $timeout seconds) until $cond->(requests) is true.
sub wait_for {
    my ($self, $cond, $timeout) = @_;
    my $until = time + ($timeout // 5);
    while (time < $until) {
        my @r = $self->requests;
        return @r if $cond->(@r);
        sleep 0.1;
    }
    return $self->requests;
}

sub stop {
    my ($self) = @_;
    kill 'TERM', $self->{pid} if $self->{pid};
    waitpid $self->{pid}, 0 if $self->{pid};
    delete $self->{pid};
}

sub DESTROY { $_[0]->stop }

1;
