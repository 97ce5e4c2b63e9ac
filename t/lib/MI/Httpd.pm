package MI::Httpd;
# What every plain httpd of a test shares, whatever it serves: a directory
# of its own, the head of its configuration, a bounded start and stop, its
# error log; stopped and removed when the object goes (or the test dies),
# by the process that made it. MI::Server (mod_integration), MI::Proxy (a
# forward proxy) and MI::Balancer (mod_proxy_balancer) give the rest.
use strict;
use warnings FATAL => 'all';

use File::Path ();
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use Time::HiRes qw(sleep);

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1) or die "port: $!";
    return $s->sockport;
}

# A new object of CLASS with FIELDS and a directory of its own (removed by
# DESTROY, after the stop: File::Temp's clean-up may come first at exit,
# and the stop needs the configuration).
sub make {
    my ($class, %fields) = @_;
    my $dir = tempdir();
    chmod 0777, $dir;
    return bless { %fields, dir => $dir, owner => $$ }, $class;
}

sub dir { $_[0]{dir} }

# The configuration's head: where its files are, a Listen per port, the
# event MPM and authz_core (the user nobody when run as root).
sub conf_head {
    my ($self, @ports) = @_;
    my $dir = $self->{dir};
    my $mods = $ENV{MI_HTTPD_MODULES} or die "MI_HTTPD_MODULES is not set";
    my $user = $> == 0 ? "User nobody\nGroup nogroup\n" : '';
    my $listen = join '', map { "Listen 127.0.0.1:$_\n" } @ports;
    return <<CONF;
ServerRoot "$dir"
ServerName 127.0.0.1
${listen}PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
ErrorLog "$dir/error_log"
${user}LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
CONF
}

sub write_conf_text {
    my ($self, $text) = @_;
    open my $fh, '>', "$self->{dir}/httpd.conf" or die $!;
    print $fh $text;
    close $fh;
}

# httpd -k ARG, bounded: 1 when it succeeded.
sub httpd {
    my ($self, $arg) = @_;
    my $rc = system('timeout', '30', $ENV{MI_HTTPD}, '-f',
                    "$self->{dir}/httpd.conf", '-k', $arg);
    return $rc == 0 ? 1 : 0;
}

# The running server's pid, or 0.
sub pid {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/httpd.pid" or return 0;
    chomp(my $pid = <$fh> // '');
    return $pid && kill(0, $pid) ? $pid : 0;
}

# Starts it and waits (at most 5 s) until PORT takes connections; dies if
# it does not start.
sub launch {
    my ($self, $port, $what) = @_;
    $self->httpd('start') or die "$what did not start";
    for (1 .. 50) {
        return $self if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        sleep 0.1;
    }
    return $self;
}

sub log_text {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/error_log" or return '';
    local $/;
    return <$fh>;
}

sub stop {
    my ($self) = @_;
    return unless $self->pid;
    $self->httpd('stop');
    for (1 .. 100) { last unless $self->pid; sleep 0.1 }
}

sub DESTROY {
    my ($self) = @_;
    return unless $$ == $self->{owner};
    local $?;    # the test's exit status
    $self->stop;
    File::Path::remove_tree($self->{dir});
}

1;
