# The metrics (API.md section 11, docs/metrics.md): SetHandler
# integration-metrics serves the counters of every child in Prometheus's
# text format (promtool accepts it); they move as requests are made, with
# bounded labels (route templates, a fixed set of methods and codes); the
# backlog gauges come from the database; mod_status's page has a section;
# and the counts survive a graceful restart.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use Time::HiRes qw(time sleep);
use MI::Test;
use MI::Receiver;

# The graceful restart only on the direct run: behind the h2c proxy a POST
# sent on a backend connection the restart closed gets the proxy's 502
# (build/dev, h2c_files).
my $restart = ($ENV{MI_VIA} // '') eq '';
plan tests => 33 + ($restart ? 4 : 0), have_lwp;

my $ua = LWP::UserAgent->new(keep_alive => 0);
my $base = 'http://' . Apache::TestRequest::hostport();

# The page, always fetched directly (not through the h2c proxy), and its
# samples by "name{labels}".
sub scrape {
    my $res = $ua->get("$base/integration-metrics");
    my %m;
    for (split /\n/, $res->content) {
        next if /^#/;
        $m{$1} = $2 if /^(\S+) (\S+)$/;
    }
    return wantarray ? (\%m, $res) : \%m;
}

sub value { scrape()->{ $_[0] } // 0 }

# Requests are counted when they are logged, just after the answer: a
# moment later than the client reads it.
sub value_reaching {
    my ($key, $want) = @_;
    my $until = time + 10;
    my $v;
    while (($v = value($key)) < $want && time < $until) {
        sleep 0.1;
    }
    return $v;
}

my $t = tenant();
my $tok = $t->{token};
my $sup = 'integration_upsert_records_total{resource="suppliers",outcome=';
my $posts = 'integration_http_requests_total{route="/suppliers",method="POST",code="200"}';
my $gets401 = 'integration_http_requests_total{route="/suppliers",method="GET",code="401"}';
my $count = 'integration_http_request_duration_seconds_count{route="/suppliers"}';

my ($m, $res) = scrape();
ok t_cmp($res->code, 200, 'the metrics page answers 200');
ok t_cmp($res->header('Content-Type'),
         qr{^text/plain; version=0\.0\.4; charset=utf-8$},
         'in the text exposition format');
ok t_cmp($m->{integration_database_up}, 1, 'the database answered');
ok t_cmp($m->{integration_webhook_pending_deliveries} // 'absent', qr/^\d+$/,
         'pending deliveries: a gauge');
ok t_cmp($m->{integration_webhook_oldest_pending_delivery_age_seconds}
         // 'absent', qr/^\d+\.\d+$/, 'the oldest one\'s age, in seconds');

# ---- records and requests -----------------------------------------------
my %before = map { $_ => $m->{"$sup\"$_\"}"} // 0 } qw(created updated failed);
my $posts0 = $m->{$posts} // 0;
my $count0 = $m->{$count} // 0;
$res = api(POST => '/suppliers', token => $tok, body => { suppliers => [
    { externalId => 'M-1', name => 'One' }, { externalId => 'M-2', name => 'Two' },
    { externalId => 'M-3' } ] });
ok t_cmp($res->code, 200, 'a POST of three records, one invalid');
$m = scrape();
ok t_cmp($m->{"$sup\"created\"}"} - $before{created}, 2, 'created moved by 2');
ok t_cmp($m->{"$sup\"failed\"}"} - $before{failed}, 1, 'failed moved by 1');
ok t_cmp($m->{"$sup\"updated\"}"} - $before{updated}, 0, 'updated did not move');
$res = api(POST => '/suppliers', token => $tok,
           body => { suppliers => [ { externalId => 'M-1', name => 'Uno' } ] });
ok t_cmp($res->code, 200, 'a POST that updates one');
ok t_cmp(value("$sup\"updated\"}") - $before{updated}, 1, 'updated moved by 1');
ok t_cmp(value_reaching($posts, $posts0 + 2) - $posts0, 2,
         'requests by route template, method and code: 2 POSTs');
$m = scrape();
ok t_cmp(($m->{$count} // 0) - $count0 >= 2, 1,
         'the route\'s duration histogram counted them');
ok t_cmp($m->{'integration_http_request_duration_seconds_bucket{route="/suppliers",le="+Inf"}'},
         $m->{$count}, 'its +Inf bucket is its count');
ok t_cmp(scalar(grep { /M-1|M-2|\/suppliers\/[^{]/ } keys %$m), 0,
         'no raw path or id in any label');

# One record's route: its template, not the id asked for.
api(GET => path_of('suppliers', 'M-1'), token => $tok);
ok t_cmp(value_reaching('integration_http_requests_total{route="/suppliers/{id}",method="GET",code="200"}', 1) >= 1,
         1, 'a record\'s route is labelled with its template');

# ---- what matched no route, and unknown methods --------------------------
my $nf = 'integration_http_requests_total{route="unmatched",method="GET",code="404"}';
my $nf0 = value($nf);
api(GET => '/no-such-endpoint/' . time);
ok t_cmp(value_reaching($nf, $nf0 + 1) - $nf0, 1,
         'an unknown path is route="unmatched"');
my $odd = 'integration_http_requests_total{route="unmatched",method="other",code="405"}';
my $odd0 = value($odd);
$res = api(FROBNICATE => '/suppliers', token => $tok);
ok t_cmp($res->code, 405, 'an unknown method is 405');
ok t_cmp(value_reaching($odd, $odd0 + 1) - $odd0, 1,
         '...counted as method="other"');

# ---- authentication failures ---------------------------------------------
my $af = 'integration_auth_failures_total{code=';
$m = scrape();
my %af0 = map { $_ => $m->{"$af\"$_\"}"} // 0 }
    qw(INVALID_TOKEN INVALID_TOKEN_FORMAT AUTHENTICATION_REQUIRED);
my $g0 = $m->{$gets401} // 0;
api(GET => '/suppliers', token => 'eudr_live_' . ('0123456789abcdef' x 3));
api(GET => '/suppliers', token => 'eudr_live_short');
api(GET => '/suppliers');
$m = scrape();
ok t_cmp($m->{"$af\"INVALID_TOKEN\"}"} - $af0{INVALID_TOKEN}, 1,
         'an unknown token moved INVALID_TOKEN by 1');
ok t_cmp($m->{"$af\"INVALID_TOKEN_FORMAT\"}"} - $af0{INVALID_TOKEN_FORMAT}, 1,
         'a malformed one INVALID_TOKEN_FORMAT');
ok t_cmp($m->{"$af\"AUTHENTICATION_REQUIRED\"}"}
         - $af0{AUTHENTICATION_REQUIRED}, 1, 'none AUTHENTICATION_REQUIRED');
ok t_cmp(value_reaching($gets401, $g0 + 3) - $g0, 3, 'three 401s');

# ---- rate limit: the virtual host mi_limited allows 20 per minute ---------
Apache::TestRequest::module('mi_limited');
my $limited = 'http://' . Apache::TestRequest::hostport() . BASE . '/suppliers';
Apache::TestRequest::module('default');
my $lt = tenant();
my $rl0 = value('integration_rate_limited_total');
my %codes;
$codes{ $ua->get($limited, Authorization => "Bearer $lt->{token}")->code }++
    for 1 .. 21;
ok t_cmp($codes{429} // 0, 1, 'the 21st request is refused');
ok t_cmp(value('integration_rate_limited_total') - $rl0, 1,
         'integration_rate_limited_total moved by 1');

# ---- webhook deliveries ---------------------------------------------------
my $rx = MI::Receiver->start;
my $d = 'integration_webhook_deliveries_total{outcome="delivered"}';
my $dd = 'integration_webhook_delivery_duration_seconds_count';
$m = scrape();
my ($d0, $dd0) = ($m->{$d} // 0, $m->{$dd} // 0);
my $hook = json_of(api(POST => '/webhook-events', token => $tok,
    body => { url => $rx->url, events => ['supplier.created'] }));
api(POST => '/suppliers', token => $tok,
    body => { suppliers => [ { externalId => 'M-HOOK', name => 'hook' } ] });
$rx->wait_for(sub { grep { $_->{body} =~ /M-HOOK/ } @_ }, 20);
ok t_cmp(value_reaching($d, $d0 + 1) - $d0 >= 1, 1,
         'a delivered attempt is counted');
ok t_cmp(value($dd) - $dd0 >= 1, 1, 'and its duration');
api(DELETE => "/webhook-events/$hook->{id}", token => $tok);
$rx->stop;

# ---- the page passes promtool ----------------------------------------------
my $text = $ua->get("$base/integration-metrics")->content;
my $promtool = $ENV{MI_PROMTOOL} // 'promtool';
my $file = Apache::Test::vars('t_logs') . "/metrics.txt";    # kept, to read
open my $fh, '>', $file or die "$file: $!";
print $fh $text;
close $fh;
my $lint = `'$promtool' check metrics < '$file' 2>&1`;
ok t_cmp($?, 0, 'promtool check metrics: exit 0');
ok t_cmp($lint, '', 'promtool check metrics: no complaint');
# promtool does not look for a series given twice; Prometheus refuses it.
my %seen;
my @twice = grep { $seen{$_}++ == 1 }
    map { /^(\S+) / ? $1 : () } grep { !/^#/ } split /\n/, $text;
ok t_cmp("@twice", '', 'every series once (GET and POST /suppliers: one route)');
ok t_cmp($text, qr/^integration_http_request_duration_seconds_bucket\{route="\/suppliers",le="0\.005"\} \d+$/m,
         'bucket bounds as Prometheus writes them');


# ---- mod_status --------------------------------------------------------------
$res = $ua->get("$base/server-status");
ok t_cmp($res->content, qr{<h2>mod_integration</h2>},
         'server-status has the module\'s section');
ok t_cmp($ua->get("$base/server-status?auto")->content,
         qr/^IntegrationRequests: [1-9]\d*$/m, 'and ?auto its lines');

# ---- a graceful restart keeps every count -----------------------------------
if ($restart) {
    my $m0 = scrape();
    system($ENV{MI_HTTPD}, '-f', Apache::Test::vars('t_conf_file'),
           '-k', 'graceful') == 0 or die "graceful restart failed";
    my $m1;
    my $until = time + 15;
    do { sleep 0.5; $m1 = scrape() }
        while (!defined $m1->{$posts} && time < $until);
    ok t_cmp($m1->{"$sup\"created\"}"}, $m0->{"$sup\"created\"}"},
             'records: the same after a graceful restart');
    ok t_cmp($m1->{$posts}, $m0->{$posts},
             'requests: the same after a graceful restart');
    ok t_cmp($m1->{"${af}\"INVALID_TOKEN\"}"}, $m0->{"${af}\"INVALID_TOKEN\"}"},
             'auth failures: the same');
    $res = $ua->request(HTTP::Request->new(POST => $base . BASE . '/suppliers',
        [ Authorization => "Bearer $tok", 'Content-Type' => 'application/json' ],
        encode_json({ suppliers => [ { externalId => 'M-4', name => 'Four' } ] })));
    ok t_cmp(value("$sup\"created\"}") - $m0->{"$sup\"created\"}"}, 1,
             'the new children count on in the same table');
}
