package MI::Balancer;
# A load balancer for the tests: a plain httpd of its own (MI::Httpd) with
# mod_proxy_balancer, on loopback, that spreads the requests of each
# mounted path over its members in turn (lbmethod=byrequests). It stands
# for the balancer in front of several mod_integration nodes.
#
#   my $lb = MI::Balancer->start(routes => [ [ '/api/v1/integration',
#       '/api/v1/integration', 'http://127.0.0.1:PA', 'http://127.0.0.1:PB' ] ]);
#   $lb->url('/api/v1/integration/suppliers');
use strict;
use warnings FATAL => 'all';

use parent 'MI::Httpd';

# start(routes => [ [ FRONT, BACK, MEMBER, ... ], ... ]): requests below
# the path FRONT go, in turn, to the path BACK of each MEMBER
# (http://host:port), as they came (encoded slashes untouched).
sub start {
    my ($class, %o) = @_;
    my $self = $class->make(port => MI::Httpd::free_port());
    my $mods = $ENV{MI_HTTPD_MODULES};
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
    $self->write_conf_text($self->conf_head($self->{port}) . <<CONF);
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
    return $self->launch($self->{port}, 'the balancer');
}

sub url { "http://127.0.0.1:$_[0]{port}" . ($_[1] // '') }

1;
