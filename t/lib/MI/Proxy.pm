package MI::Proxy;
# A forward proxy for the tests: a plain httpd of its own (MI::Httpd) with
# mod_proxy (ProxyRequests On), mod_proxy_http and mod_proxy_connect, on
# loopback, that logs every request line it forwards and adds a Via
# header. It stands for an enterprise's egress proxy
# (IntegrationWebhookProxy).
#
#   my $p = MI::Proxy->start(connect_ports => [ $tls_port ]);
#   $p->url;          # http://127.0.0.1:PORT
#   $p->requests;     # the request lines it got ("POST http://... HTTP/1.1")
use strict;
use warnings FATAL => 'all';

use parent 'MI::Httpd';

sub start {
    my ($class, %o) = @_;
    my $self = $class->make(port => MI::Httpd::free_port());
    my $mods = $ENV{MI_HTTPD_MODULES};
    my $dir = $self->dir;
    my $connect = join ' ', @{ $o{connect_ports} || [] };
    $self->write_conf_text($self->conf_head($self->{port}) . <<CONF);
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
    return $self->launch($self->{port}, 'the proxy');
}

sub url { "http://127.0.0.1:$_[0]{port}" }

# The request lines forwarded so far (the access log is written when a
# request ends).
sub requests {
    my ($self) = @_;
    open my $fh, '<', $self->dir . '/access_log' or return;
    chomp(my @lines = <$fh>);
    return @lines;
}

1;
