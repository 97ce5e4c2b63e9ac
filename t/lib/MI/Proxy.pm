package MI::Proxy;
# A forward proxy for the tests: a plain httpd of its own with mod_proxy
# (ProxyRequests On), mod_proxy_http and mod_proxy_connect, on loopback,
# that logs every request line it forwards and adds a Via header. It stands
# for an enterprise's egress proxy (IntegrationWebhookProxy).
#
#   my $p = MI::Proxy->start(connect_ports => [ $tls_port ]);
#   $p->url;          # http://127.0.0.1:PORT
#   $p->requests;     # the request lines it got ("POST http://... HTTP/1.1")
use strict;
use warnings FATAL => 'all';

use File::Path ();
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use Time::HiRes qw(sleep);
use MI::Server ();

sub start {
    my ($class, %o) = @_;
    my $dir = tempdir();
    chmod 0777, $dir;
    my $self = bless { dir => $dir, port => MI::Server::free_port(),
                       owner => $$ }, $class;
    my $mods = $ENV{MI_HTTPD_MODULES} or die "MI_HTTPD_MODULES is not set";
    my $user = $> == 0 ? "User nobody\nGroup nogroup" : '';
    my $connect = join ' ', @{ $o{connect_ports} || [] };
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
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_http_module $mods/mod_proxy_http.so
LoadModule proxy_connect_module $mods/mod_proxy_connect.so
StartServers 1
LogFormat "%r" line
CustomLog "$dir/access_log" line
ProxyRequests On
ProxyVia On
ProxyTimeout 10
@{[ $connect ? "AllowCONNECT $connect" : '' ]}
<Proxy "*">
    Require all granted
</Proxy>
CONF
    close $fh;
    system('timeout', '30', $ENV{MI_HTTPD}, '-f', "$dir/httpd.conf",
           '-k', 'start') == 0 or die "the proxy did not start";
    for (1 .. 50) {
        last if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$self->{port}");
        sleep 0.1;
    }
    return $self;
}

sub url { "http://127.0.0.1:$_[0]{port}" }

# The request lines forwarded so far (the access log is written when a
# request ends).
sub requests {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/access_log" or return;
    chomp(my @lines = <$fh>);
    return @lines;
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
