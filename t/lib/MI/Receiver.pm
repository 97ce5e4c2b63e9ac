package MI::Receiver;
# A loopback webhook receiver for the tests: records every request it gets
# (headers and raw body) and answers as told: a status code, or "hang"
# (answers nothing for longer than the module waits), or by the age of the
# process that sent it (answer_by_start).
#
# The log is never truncated or unlinked: the receiver (a process of its
# own) numbers every request (seq, from 1) and appends it as one line;
# clear() only remembers how far the log went, and requests() returns what
# came after that. So no record is lost to a clear, and a record that comes
# late lands after it, where the test can see it.
use strict;
use warnings FATAL => 'all';
use IO::Socket::INET ();
use IO::Select ();
use IO::Socket::SSL ();
use File::Temp qw(tempdir);
use JSON::PP ();
use Time::HiRes qw(time sleep);
use POSIX ();

my $json = JSON::PP->new->utf8->canonical;

# How long a "hang" answer holds the connection: longer than the module's
# IntegrationWebhookTimeout in the tests (1 s).
use constant HANG_SECONDS => 3;

# start(tls => { cert => PEM, key => PEM }) serves https instead.
sub start {
    my ($class, %o) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => 0, Listen => 64, ReuseAddr => 1) or die "listen: $!";
    my $self = bless { dir => $dir, port => $server->sockport,
                       log => "$dir/requests.jsonl", mode => "$dir/mode",
                       from => 0, tls => $o{tls} },
                     $class;
    $self->answer(200);
    open my $touch, '>>', $self->{log} or die "$self->{log}: $!";
    close $touch;
    my $test = $$;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        # A request that waited in the backlog may be answered after the
        # module gave up on it: writing to that closed socket must not kill
        # the receiver (and lose every later request).
        $SIG{PIPE} = 'IGNORE';
        # Nothing of the receiver goes to the test's output: prove waits
        # for every holder of it to close it.
        open STDOUT, '>', '/dev/null';
        $self->serve($server, $test);
        POSIX::_exit(0);
    }
    close $server;
    $self->{pid} = $pid;
    return $self;
}

sub url {
    my ($self, $path) = @_;
    return ($self->{tls} ? 'https' : 'http') . "://127.0.0.1:$self->{port}"
        . ($path // '/hook');
}

# answer(MODE): "200" (or any status), "302 http://elsewhere/" (a status
# and a Location), "hang" (nothing, and the connection closed after
# HANG_SECONDS), "late SECONDS" (200 after SECONDS, the request logged at
# once).
sub answer {
    my ($self, $mode) = @_;
    open my $fh, '>', "$self->{mode}.tmp" or die $!;
    print $fh $mode;
    close $fh;
    rename "$self->{mode}.tmp", $self->{mode} or die $!;
}

# answer_by_start(TICKS, OLD, NEW): a request sent by a process that
# started after TICKS (clock ticks since boot, as start_ticks and
# /proc/PID/stat count them) gets the answer NEW, any other (or one whose
# sender is not found) OLD. Every request then records its sender: pid,
# ppid, started (ticks).
sub answer_by_start {
    my ($self, $ticks, $old, $new) = @_;
    $self->answer("by-start $ticks $old $new");
}

# Now, in the clock ticks of a process's start time.
sub now_ticks {
    open my $fh, '<', '/proc/uptime' or die "/proc/uptime: $!";
    my ($up) = split ' ', scalar <$fh>;
    return int($up * POSIX::sysconf(POSIX::_SC_CLK_TCK()));
}

# (ppid, start time in ticks) of a process, from /proc/PID/stat (its
# command name, in parentheses, may hold spaces).
sub proc_stat {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return;
    my $stat = <$fh> // return;
    $stat =~ s/^.*\)\s+//s;
    my @f = split ' ', $stat;    # from field 3 (state) on
    return ($f[1], $f[19]);
}

# The process that holds the other end of the connection $c (a loopback
# TCP socket): its socket's inode from /proc/net/tcp, then the process
# with that inode among its descriptors.
sub sender_of {
    my ($self, $c) = @_;
    my $local = sprintf '0100007F:%04X', $c->peerport;
    my $remote = sprintf '0100007F:%04X', $self->{port};
    my $inode;
    open my $tcp, '<', '/proc/net/tcp' or return;
    while (<$tcp>) {
        my @f = split ' ';
        if (@f > 9 && $f[1] eq $local && $f[2] eq $remote) {
            $inode = $f[9];
            last;
        }
    }
    close $tcp;
    return unless $inode;
    my $want = "socket:[$inode]";
    opendir my $proc, '/proc' or return;
    for my $pid (grep { /^\d+$/ } readdir $proc) {
        next if $pid == $$;
        opendir my $fds, "/proc/$pid/fd" or next;
        for my $fd (readdir $fds) {
            my $link = readlink "/proc/$pid/fd/$fd";
            return $pid if defined $link && $link eq $want;
        }
    }
    return;
}

sub serve {
    my ($self, $server, $test) = @_;
    my $seq = 0;
    my @held;    # [ socket, until, reply ] of "hang" (no reply) and
                 # "late" answers, the first to end first
    my $select = IO::Select->new($server);
    while (1) {
        # The test is gone (killed, say): so is its receiver.
        POSIX::_exit(0) if getppid() != $test;
        my $wait = @held ? $held[0][1] - time : 1;
        my @ready = $select->can_read($wait < 0 ? 0 : $wait > 1 ? 1 : $wait);
        while (@held && $held[0][1] <= time) {
            my ($held, undef, $reply) = @{ shift @held };
            print $held $reply if defined $reply;
            close $held;
        }
        next unless @ready;
        my $c = $server->accept or next;
        # A client that refuses the certificate ends here.
        if ($self->{tls} && !IO::Socket::SSL->start_SSL($c, SSL_server => 1,
                SSL_cert_file => $self->{tls}{cert},
                SSL_key_file => $self->{tls}{key}, Timeout => 5)) {
            close $c;
            next;
        }
        my ($head, $body) = ('', '');
        while (defined(my $line = <$c>)) {
            $head .= $line;
            last if $line eq "\r\n";
        }
        # A connection closed before its head was whole (an attempt
        # cancelled by a stopping child, say) is logged as torn.
        my $torn = $head =~ /\r\n\r\n\z/ ? 0 : 1;
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
        my %sender;
        if ($mode =~ /^by-start (\d+) (\S+) (\S+)$/) {
            my ($ticks, $old, $new) = ($1, $2, $3);
            my $pid = $self->sender_of($c);
            my ($ppid, $started) = $pid ? proc_stat($pid) : ();
            %sender = (pid => $pid, ppid => $ppid, started => $started);
            $mode = defined $started && $started > $ticks ? $new : $old;
        }
        my $record = $json->encode({ seq => ++$seq, line => $request_line // '',
                                     headers => \%h, body => $body, at => time,
                                     answer => $mode, torn => $torn,
                                     %sender }) . "\n";
        # One write of the whole line, appended: a reader sees it whole or
        # not at all (requests() ignores a line still without its "\n").
        open my $log, '>>', $self->{log} or die $!;
        binmode $log;
        syswrite $log, $record;
        close $log;
        if ($mode eq 'hang' || $mode =~ /^late ([\d.]+)$/) {
            my $late = $mode ne 'hang';
            push @held, [ $c, time + ($late ? $1 : HANG_SECONDS),
                          $late ? reply('200') : undef ];
            @held = sort { $a->[1] <=> $b->[1] } @held;
            next;
        }
        # A mode "302 http://elsewhere/" (answer('302 http://...')) is a
        # status code and a Location header.
        print $c reply($mode);
        close $c;
    }
}

sub reply {
    my ($status, $location) = split / /, $_[0], 2;
    return "HTTP/1.1 $status Answer\r\nContent-Length: 2\r\n"
           . (defined $location ? "Location: $location\r\n" : '')
           . "Connection: close\r\n\r\nok";
}

# The whole lines of the log from byte $from on: (records, where they end).
sub read_log {
    my ($self, $from) = @_;
    open my $fh, '<', $self->{log} or die "$self->{log}: $!";
    binmode $fh;
    seek $fh, $from, 0;
    my $text = do { local $/; <$fh> } // '';
    close $fh;
    my $end = rindex($text, "\n") + 1;
    my @r = map { $json->decode($_) } split /\n/, substr($text, 0, $end);
    return (\@r, $from + $end);
}

# Every request received since the last clear (since the start), oldest
# first (in scalar context, how many).
sub requests {
    my ($self) = @_;
    my ($r) = $self->read_log($self->{from});
    my @whole = grep { !$_->{torn} } @$r;
    return wantarray ? @whole : scalar @whole;
}

# Every connection since the last clear, torn ones too (a check that
# nothing reached the receiver counts these).
sub connections {
    my ($self) = @_;
    my ($r) = $self->read_log($self->{from});
    return wantarray ? @$r : scalar @$r;
}

# Forgets (for requests()) every request received so far.
sub clear {
    my ($self) = @_;
    (undef, $self->{from}) = $self->read_log($self->{from});
}

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
