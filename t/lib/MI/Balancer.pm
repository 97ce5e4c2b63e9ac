package MI::Balancer;
# A load balancer for the tests: a plain httpd of its own (as MI::Proxy)
# with mod_proxy_balancer, on loopback, that spreads the requests of each
# mounted path over its members in turn (lbmethod=byrequests). It stands
# for the balancer in front of several mod_integration nodes.
#
#   my $lb = MI::Balancer->start(routes => [ [ '/api/v1/integration',
#       '/api/v1/integration', 'http://127.0.0.1:PA', 'http://127.0.0.1:PB' ] ]);
#   $lb->url('/api/v1/integration/suppliers');
use strict;
use warnings FATAL => 'all';

use File::Path ();
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use Time::HiRes qw(sleep);
use MI::Server ();

# start(routes => [ [ FRONT, BACK, MEMBER, ... ], ... ]): requests below
# the path FRONT go, in turn, to the path BACK of each MEMBER
# (http://host:port), as they came (encoded slashes untouched).
sub start {
    my ($class, %o) = @_;
    my $dir = tempdir();
    chmod 0777, $dir;
    my $self = bless { dir => $dir, port => MI::Server::free_port(),
                       owner => $$ }, $class;
    my $mods = $ENV{MI_HTTPD_MODULES} or die "MI_HTTPD_MODULES is not set";
    my $user = $> == 0 ? "User nobody\nGroup nogroup" : '';
    my ($proxies, $n) = ('', 0);
    # Longest path first: ProxyPass takes the first that matches.
    for my $route (sort { length $b->[0] <=> length $a->[0] } @{ $o{routes} }) {
        my ($front, $back, @members) = @$route;
        my $name = 'pool' . $n++;
        $proxies .= "<Proxy balancer://$name>\n"
            . join('', map { "    BalancerMember $_\n" } @members)
            . "    ProxySet lbmethod=byrequests\n</Proxy>\n"
            . "ProxyPass $front balancer://$name$back nocanon\n";
    }
    open my $fh, '>', "$dir/httpd.conf" or die $!;
    print $fh <<CONF;
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$self->{port}
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
ErrorLog "$dir/error_log"
$user
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule slotmem_shm_module $mods/mod_slotmem_shm.so
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_http_module $mods/mod_proxy_http.so
LoadModule proxy_balancer_module $mods/mod_proxy_balancer.so
LoadModule lbmethod_byrequests_module $mods/mod_lbmethod_byrequests.so
StartServers 1
AllowEncodedSlashes NoDecode
ProxyTimeout 10
$proxies
CONF
    close $fh;
    system('timeout', '30', $ENV{MI_HTTPD}, '-f', "$dir/httpd.conf",
           '-k', 'start') == 0 or die "the balancer did not start";
    for (1 .. 50) {
        last if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$self->{port}");
        sleep 0.1;
    }
    return $self;
}

sub url { "http://127.0.0.1:$_[0]{port}" . ($_[1] // '') }

sub log_text {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/error_log" or return '';
    local $/;
    return <$fh>;
}

sub stop {
    my ($self) = @_;
    return unless -f "$self->{dir}/httpd.pid";
    system('timeout', '30', $ENV{MI_HTTPD}, '-f', "$self->{dir}/httpd.conf",
           '-k', 'stop');
    for (1 .. 100) { last unless -f "$self->{dir}/httpd.pid"; sleep 0.1 }
}

sub DESTROY {
    my ($self) = @_;
    return unless $$ == $self->{owner};
    local $?;
    $self->stop;
    File::Path::remove_tree($self->{dir});
}

1;
