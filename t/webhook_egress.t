# Where webhook deliveries may connect (API.md section 9, "Destinations",
# and section 12): public addresses only, decided on the address actually
# connected to; a literal address that is not allowed is refused when the
# webhook is made; IntegrationWebhookAllowNetworks opens networks (the
# suite's server allows 127.0.0.0/8 and ::1/128 for its receivers);
# IntegrationWebhookProxy sends deliveries through a forward proxy and
# IntegrationWebhookCAFile verifies receivers with a private CA.
#
# Nothing here makes the module connect outside loopback: private,
# link-local and metadata literals are only offered at create (a webhook
# that got created would be deleted at once), and the rule at connection
# time is shown with names that resolve to loopback: localhost, and a name
# of this test's own in /etc/hosts (removed at the end).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use File::Temp ();
use HTTP::Request ();
use Time::HiRes qw(time sleep);
use MI::Test;
use MI::DB;
use MI::Proxy;
use MI::Receiver;
use MI::Server;

use constant RESERVED => 'url must not point to a private or reserved address';
use constant REFUSED  => 'destination not allowed';

# Refused where nothing is allowed but public addresses, and where
# loopback is (the suite's server).
my @private = (
    '10.0.0.1', '172.16.0.1', '192.168.1.1', '100.64.0.1', '169.254.169.254',
    '0xa9fea9fe', '2852039166', '0251.0376.0251.0376', '0.0.0.0', '0',
    '224.0.0.1', '255.255.255.255', '[fe80::1]', '[fe80::1%25eth0]',
    '[fc00::1]', '[fd00::1]', '[::ffff:10.0.0.1]', '[::ffff:169.254.169.254]',
    '[::ffff:a9fe:a9fe]', '[64:ff9b::a9fe:a9fe]', '[2002:a9fe:a9fe::1]',
    '[::]',
);
# Loopback in every spelling: refused at the default only.
my @loopback = (
    '127.0.0.1', '127.1', '127.0.1', '2130706433', '0x7f000001',
    '0x7f.0.0.1', '0177.0.0.1', '[::1]', '[0:0:0:0:0:0:0:1]',
    '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0:0:0:0:0:ffff:7f00:1]',
);

plan tests => 2 * @private + 3 + @loopback + 25, have_lwp;

die "this test needs root: it adds a name of its own to /etc/hosts\n"
    unless -w '/etc/hosts';
my $name = "mi-egress-$$.test";
my $hosts_line = "127.0.0.1 $name # t/webhook_egress.t\n";
open my $hosts, '>>', '/etc/hosts' or die "/etc/hosts: $!";
print $hosts $hosts_line;
close $hosts;
END {
    if (open my $in, '<', '/etc/hosts') {
        my @keep = grep { $_ ne $hosts_line } <$in>;
        close $in;
        if (open my $out, '>', '/etc/hosts') { print $out @keep; close $out }
    }
}

# An API call to a server of this test's own (or to the suite's: undef).
sub call {
    my ($s, $method, $path, $token, $body) = @_;
    return api($method => $path, token => $token, body => $body) unless $s;
    my $req = HTTP::Request->new($method => $s->url($path),
        [ Authorization => "Bearer $token", 'Content-Type' => 'application/json' ],
        defined $body ? encode_json($body) : undef);
    return $s->ua->request($req);
}

# POST /webhook-events with url: the answer's code and message; a webhook
# that got made is deleted at once (nothing may ever be sent to it).
sub offer {
    my ($s, $token, $url) = @_;
    my $r = call($s, POST => '/webhook-events', $token,
                 { url => $url, events => ['supplier.created'] });
    my $b = eval { decode_json($r->content) } || {};
    call($s, DELETE => "/webhook-events/$b->{id}", $token) if $r->code == 201;
    return ($r->code, $b->{message} // '');
}

sub hook {
    my ($s, $token, $url) = @_;
    my $r = call($s, POST => '/webhook-events', $token,
                 { url => $url, events => ['supplier.created'] });
    die 'webhook: ' . $r->code . ' ' . $r->content unless $r->code == 201;
    return decode_json($r->content)->{id};
}

sub test_hook {
    my ($s, $token, $id) = @_;
    return decode_json(call($s, POST => "/webhook-events/$id/test", $token)->content);
}

# ---- literal addresses, on the suite's server ----------------------------
my $t = tenant();
for my $host (@private) {
    my ($code, $msg) = offer(undef, $t->{token}, "https://$host/hook");
    ok t_cmp("$code $msg", '400 ' . RESERVED, "https://$host/ refused at create");
}
my $rx = MI::Receiver->start;
my $kept = hook(undef, $t->{token}, $rx->url);
for my $host (@private) {
    my $r = call(undef, PATCH => "/webhook-events/$kept", $t->{token},
                 { url => "https://$host/hook" });
    ok t_cmp($r->code . ' ' . (json_of($r)->{message} // ''), '400 ' . RESERVED,
             "PATCH to https://$host/ refused");
}
ok t_cmp(json_of(call(undef, GET => "/webhook-events/$kept", $t->{token}))->{url},
         $rx->url, 'the url is unchanged');
my ($code) = offer(undef, $t->{token}, 'http://127.0.0.1:9/hook');
ok t_cmp($code, 201, 'where 127.0.0.0/8 is allowed: a loopback literal accepted');
# A name is judged by the address it resolves to: allowed here.
my $named = hook(undef, $t->{token}, $rx->url =~ s/127\.0\.0\.1/$name/r);
my $res = test_hook(undef, $t->{token}, $named);
ok t_cmp($res->{success} ? 'delivered' : ($res->{error} // ''), 'delivered',
         "$name (/etc/hosts: 127.0.0.1) reached where loopback is allowed");

# ---- the default: public addresses only ----------------------------------
my $params = own_database('egress');
my $s = MI::Server->new(params => $params, conf => join "\n",
    'IntegrationWebhookAllowHttp On', 'IntegrationWebhookTimeout 1s',
    'IntegrationWebhookRetryDelays 100ms', 'IntegrationRateLimit 0');
ok t_cmp($s->start, 1, 'a server at the default destinations starts')
    or print STDERR $s->log_text;
my $own = do { local $ENV{MI_DB_PARAMS} = $params; tenant() };
for my $host (@loopback) {
    my ($code, $msg) = offer($s, $own->{token}, "http://$host:" . $rx->{port} . '/hook');
    ok t_cmp("$code $msg", '400 ' . RESERVED, "http://$host/ refused at create");
}
$rx->clear;
my @names = ('localhost', $name);
my @ids = map { hook($s, $own->{token}, $rx->url =~ s/127\.0\.0\.1/$_/r) } @names;
for my $i (0 .. $#names) {
    my $res = test_hook($s, $own->{token}, $ids[$i]);
    ok t_cmp(join(' ', $res->{success} ? 'true' : 'false',
                  $res->{statusCode} // 'null', $res->{error} // 'null'),
             'false null ' . REFUSED,
             "/test to $names[$i] (loopback): only '" . REFUSED . "'");
}
# Queued deliveries fail the same way, as failed attempts, retried.
call($s, POST => '/suppliers', $own->{token},
     { suppliers => [ { externalId => 'EGRESS-1', name => 'e' } ] });
my %last;
my $until = time + 10;
while (time < $until) {
    for my $i (0 .. $#ids) {
        my $d = json_of(call($s, GET => "/webhook-events/$ids[$i]/deliveries",
                             $own->{token}))->{data}[0] || {};
        $last{$names[$i]} = $d;
    }
    last unless grep { ($_->{attempts} // 0) < 2 } values %last;
    sleep 0.2;
}
for my $n (@names) {
    ok t_cmp(($last{$n}{attempts} // 0) >= 2 ? $last{$n}{lastError} // 'null' : 'not retried',
             REFUSED, "a delivery to $n: failed with '" . REFUSED . "', and retried");
}
ok t_cmp(scalar $rx->connections, 0, 'nothing reached the receiver on loopback');
call($s, DELETE => "/webhook-events/$_", $own->{token}) for @ids;
$s->stop;

# ---- a private CA, and a forward proxy -----------------------------------
my $pki = File::Temp::tempdir(CLEANUP => 1);
chmod 0755, $pki;
system("cd $pki && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
       . "-nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=mi-test-ca "
       . "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign "
       . ">/dev/null 2>&1 && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
       . "-nodes -keyout rx.key -out rx.csr -subj /CN=127.0.0.1 >/dev/null 2>&1 "
       . "&& printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > rx.ext "
       . "&& openssl x509 -req -in rx.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
       . "-days 2 -extfile rx.ext -out rx.pem >/dev/null 2>&1") == 0
    or die "cannot make the test CA";
chmod 0644, "$pki/ca.pem";
my $tls = MI::Receiver->start(tls => { cert => "$pki/rx.pem", key => "$pki/rx.key" });
my $tls_hook = hook(undef, $t->{token}, $tls->url);
$res = test_hook(undef, $t->{token}, $tls_hook);
ok t_cmp(!$res->{success} && ($res->{error} // '') =~ /certificate|SSL/i ? 'refused' : encode_json($res),
         'refused', 'a receiver of a private CA: refused with the system CAs');

my $ca = MI::Server->new(params => $params, conf => join "\n",
    'IntegrationWebhookAllowNetworks 127.0.0.0/8', 'IntegrationRateLimit 0',
    "IntegrationWebhookCAFile $pki/ca.pem");
ok t_cmp($ca->start, 1, 'a server with IntegrationWebhookCAFile starts')
    or print STDERR $ca->log_text;
my $ca_hook = hook($ca, $own->{token}, $tls->url);
$res = test_hook($ca, $own->{token}, $ca_hook);
ok t_cmp($res->{success} ? $res->{statusCode} : encode_json($res), 200,
         'verified with IntegrationWebhookCAFile: delivered');
my @got = $tls->wait_for(sub { @_ >= 1 }, 5);
ok t_cmp($got[-1]{headers}{'x-webhook-event'} // '', 'webhook.test',
         'the receiver got it over TLS');
call($ca, DELETE => "/webhook-events/$ca_hook", $own->{token});
$ca->stop;

my $proxy = MI::Proxy->start(connect_ports => [ $tls->{port} ]);
my $via = MI::Server->new(params => $params, conf => join "\n",
    'IntegrationWebhookAllowHttp On', 'IntegrationWebhookAllowNetworks 127.0.0.0/8',
    'IntegrationRateLimit 0', 'IntegrationWebhookProxy ' . $proxy->url,
    "IntegrationWebhookCAFile $pki/ca.pem");
ok t_cmp($via->start, 1, 'a server with IntegrationWebhookProxy starts')
    or print STDERR $via->log_text;
$rx->clear;
$tls->clear;
my $plain = hook($via, $own->{token}, $rx->url);
my $secure = hook($via, $own->{token}, $tls->url);
$res = test_hook($via, $own->{token}, $plain);
ok t_cmp($res->{success} ? $res->{statusCode} : encode_json($res), 200,
         'http through the proxy: delivered');
@got = $rx->wait_for(sub { @_ >= 1 }, 5);
ok t_cmp(($got[-1]{headers}{via} // '') =~ /127\.0\.0\.1/ ? 'by the proxy' : 'direct',
         'by the proxy', 'the receiver got it from the proxy (Via)');
$res = test_hook($via, $own->{token}, $secure);
ok t_cmp($res->{success} ? $res->{statusCode} : encode_json($res), 200,
         'https through the proxy (CONNECT), verified with the CA file: delivered');
my $rx_line = 'POST ' . $rx->url . ' HTTP/1.1';
my $tls_line = "CONNECT 127.0.0.1:$tls->{port} HTTP/1.1";
my @lines;
$until = time + 5;
while (time < $until) {
    @lines = $proxy->requests;
    last if grep({ $_ eq $tls_line } @lines);
    sleep 0.1;
}
ok t_cmp(scalar(grep { $_ eq $rx_line } @lines), 1, "the proxy forwarded '$rx_line'");
ok t_cmp(scalar(grep { $_ eq $tls_line } @lines), 1, "the proxy tunnelled '$tls_line'");
# Queued deliveries take the same way.
call($via, POST => '/suppliers', $own->{token},
     { suppliers => [ { externalId => 'PROXY-1', name => 'p' } ] });
@got = $rx->wait_for(sub { grep { $_->{headers}{'x-webhook-event'} eq 'supplier.created' } @_ }, 10);
my ($queued) = grep { $_->{headers}{'x-webhook-event'} eq 'supplier.created' } @got;
ok t_cmp($queued && ($queued->{headers}{via} // '') ne '' ? 'by the proxy' : 'not',
         'by the proxy', 'a queued delivery went through the proxy');
@got = $tls->wait_for(sub { grep { $_->{headers}{'x-webhook-event'} eq 'supplier.created' } @_ }, 10);
ok t_cmp(scalar(grep { $_->{headers}{'x-webhook-event'} eq 'supplier.created' } @got), 1,
         'and one over TLS through it');
# Names that mean this machine are refused before the proxy sees them.
# (The proxy logs a request when it ends, and a tunnel when libcurl lets
# go of it: lines of the deliveries above may still come, so only those
# naming localhost are counted.)
my $local = hook($via, $own->{token}, $rx->url =~ s/127\.0\.0\.1/localhost/r);
$res = test_hook($via, $own->{token}, $local);
sleep 0.3;
my $asked = grep { /localhost/i } $proxy->requests;
ok t_cmp(($res->{error} // 'null') . ", proxy asked $asked",
         REFUSED . ', proxy asked 0', 'through the proxy: localhost refused, unsent');
call($via, DELETE => "/webhook-events/$local", $own->{token});
$via->stop;
$proxy->stop;

# A proxy that is down: the delivery fails; it is never sent around it.
my $gone = MI::Server->new(params => $params, conf => join "\n",
    'IntegrationWebhookAllowHttp On', 'IntegrationWebhookAllowNetworks 127.0.0.0/8',
    'IntegrationRateLimit 0',
    'IntegrationWebhookProxy http://127.0.0.1:' . MI::Server::free_port());
ok t_cmp($gone->start, 1, 'a server whose proxy is down starts')
    or print STDERR $gone->log_text;
$rx->clear;
$res = test_hook($gone, $own->{token}, $plain);
ok t_cmp(!$res->{success} && defined $res->{error} ? 'failed' : encode_json($res),
         'failed', 'the proxy is down: the attempt fails');
sleep 0.3;
ok t_cmp(scalar $rx->connections, 0, 'and nothing went around the proxy');
$gone->stop;

# Plain http turned off: a webhook made while it was on is no longer sent
# to, by /test or from the queue.
use constant HTTPS_ONLY => 'url must be an absolute https URL';
my $off = MI::Server->new(params => $params, conf => join "\n",
    'IntegrationWebhookAllowNetworks 127.0.0.0/8', 'IntegrationRateLimit 0',
    'IntegrationWebhookRetryDelays 100ms');
ok t_cmp($off->start, 1, 'a server with IntegrationWebhookAllowHttp Off starts')
    or print STDERR $off->log_text;
$rx->clear;
$res = test_hook($off, $own->{token}, $plain);
ok t_cmp(join(' ', $res->{success} ? 'true' : 'false', $res->{error} // 'null'),
         'false ' . HTTPS_ONLY, '/test to an http webhook where http is off: not sent');
call($off, POST => '/suppliers', $own->{token},
     { suppliers => [ { externalId => 'HTTP-OFF-1', name => 'h' } ] });
my $d = {};
$until = time + 10;
while (time < $until) {
    $d = json_of(call($off, GET => "/webhook-events/$plain/deliveries",
                      $own->{token}))->{data}[0] || {};
    last if ($d->{attempts} // 0) >= 1 && defined $d->{lastError};
    sleep 0.2;
}
ok t_cmp(($d->{lastError} // 'none') . ', received ' . scalar($rx->requests),
         HTTPS_ONLY . ', received 0', 'a queued delivery to it fails, unsent');
$off->stop;

$_->stop for $rx, $tls;
drop_database($params);
