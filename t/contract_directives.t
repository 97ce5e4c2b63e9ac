# The webhook directives, IntegrationRateLimitStore and
# IntegrationDbStatements (API.md section 12, docs/directives.md): every
# value just inside a limit passes `httpd -t`, every bad value is refused at
# configuration time with its exact message (t/startup.t does the same for
# the other directives).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);
use MI::Test;
use MI::Server ();

my $httpd = $ENV{MI_HTTPD} or die "MI_HTTPD is not set";
my $mods = $ENV{MI_HTTPD_MODULES};
my $dir = tempdir(CLEANUP => 1);

my $T = 'IntegrationWebhookTimeout must be a duration from 10ms to 1 day, '
      . 'e.g. 10s or 500ms';
my $T1 = 'IntegrationWebhookTimeout takes one argument, time a receiver has '
       . 'to answer (default 10s)';
my $R = 'IntegrationWebhookRetryDelays takes durations, e.g. 1s 5s 30s or '
      . '50ms 100ms 200ms';
my $R8 = 'IntegrationWebhookRetryDelays: at most 8 retries';
my $R0 = 'IntegrationWebhookRetryDelays requires at least one argument, '
       . 'delays before each retry (default 1s 5s 30s)';
my $D = 'IntegrationWebhookDisableAfter must be a whole number from 1 to 1000000';
my $D1 = 'IntegrationWebhookDisableAfter takes one argument, consecutive '
       . 'failed attempts that disable a webhook (default 10)';
my $A = 'IntegrationWebhookAllowHttp must be On or Off';
my $C = 'IntegrationWebhookConcurrency must be a whole number from 1 to 1024';
my $C1 = 'IntegrationWebhookConcurrency takes one argument, webhook '
       . 'deliveries in flight at once per node (default 64)';
my $CV = 'IntegrationWebhookConcurrency cannot occur within <VirtualHost> '
       . 'section';
sub networks { "IntegrationWebhookAllowNetworks: \"$_[0]\" $_[1]; give networks "
               . 'such as 10.20.0.0/16 or fd00::/8, or none' }
my $N0 = 'IntegrationWebhookAllowNetworks requires at least one argument, '
       . 'networks webhook deliveries may reach besides public addresses, '
       . 'e.g. 10.20.0.0/16 (default none)';
my $P = 'IntegrationWebhookProxy must be none or an http:// or https:// URL, '
      . 'e.g. http://proxy.internal:3128';
my $CA = 'IntegrationWebhookCAFile: cannot read "/nonexistent/ca.pem"; give a '
       . 'PEM file of CA certificates, or system';
sub store { "IntegrationRateLimitStore: $_[0] $_[1]; give shm or "
            . 'redis://host[:port][/db], e.g. redis://127.0.0.1:6379' }
my $S1 = 'IntegrationRateLimitStore takes one argument, where tokens\' '
       . 'requests are counted: shm (this node) or redis://host[:port][/db] '
       . '(every node; default shm)';
my $S = 'IntegrationDbStatements must be named or unnamed (unnamed for a '
      . 'transaction pooler such as PgBouncer)';
sub global_only { "$_[0] cannot occur within <VirtualHost> section" }
sub in_vhost { "<VirtualHost 127.0.0.1:1>\n$_[0]\n</VirtualHost>" }

my @good = (
    'IntegrationWebhookTimeout 10ms', 'IntegrationWebhookTimeout 86400',
    'IntegrationWebhookTimeout 86400s', 'IntegrationWebhookTimeout 86400000ms',
    'IntegrationWebhookTimeout 1440m', 'IntegrationWebhookTimeout 24h',
    'IntegrationWebhookTimeout 2min',
    'IntegrationWebhookRetryDelays 1ms',
    'IntegrationWebhookRetryDelays 1ms 2 3s 4m 5h 24h 86400 86400000ms',
    "IntegrationWebhookRetryDelays 1s 2s\nIntegrationWebhookRetryDelays 3s 4s",
    'IntegrationWebhookDisableAfter 1', 'IntegrationWebhookDisableAfter 1000000',
    'IntegrationWebhookAllowHttp On', 'IntegrationWebhookAllowHttp off',
    'IntegrationWebhookAllowHttp OFF',
    'IntegrationWebhookConcurrency 1', 'IntegrationWebhookConcurrency 1024',
    'IntegrationWebhookAllowNetworks 10.20.0.0/16 fd00::/8 192.0.2.7 ::1',
    'IntegrationWebhookAllowNetworks none', 'IntegrationWebhookAllowNetworks 0.0.0.0/0',
    "IntegrationWebhookAllowNetworks 10.0.0.0/8\nIntegrationWebhookAllowNetworks ::1/128",
    'IntegrationWebhookAllowNetworks ' . join(' ', map { "10.$_.0.0/16" } 1 .. 64),
    'IntegrationWebhookProxy http://proxy.internal:3128',
    'IntegrationWebhookProxy https://10.0.0.5:8443', 'IntegrationWebhookProxy none',
    'IntegrationWebhookCAFile /etc/ssl/certs/ca-certificates.crt',
    'IntegrationWebhookCAFile system',
    'IntegrationRateLimitStore shm', 'IntegrationRateLimitStore SHM',
    'IntegrationRateLimitStore redis://127.0.0.1:6379',
    'IntegrationRateLimitStore redis://127.0.0.1',
    'IntegrationRateLimitStore redis://cache.internal:6380/2',
    'IntegrationRateLimitStore redis://[::1]:6379/0',
    'IntegrationRateLimitStore redis://h:65535/2147483647',
    'IntegrationDbStatements named', 'IntegrationDbStatements unnamed',
    'IntegrationDbStatements Unnamed',
);
my @bad = (
    [ 'IntegrationWebhookTimeout 0', $T ],
    [ 'IntegrationWebhookTimeout 9ms', $T ],
    [ 'IntegrationWebhookTimeout 86401', $T ],
    [ 'IntegrationWebhookTimeout 86400001ms', $T ],
    [ 'IntegrationWebhookTimeout 1441m', $T ],
    [ 'IntegrationWebhookTimeout 25h', $T ],
    [ 'IntegrationWebhookTimeout 1d', $T ],
    [ 'IntegrationWebhookTimeout 1.5s', $T ],
    [ 'IntegrationWebhookTimeout 10sx', $T ],
    [ 'IntegrationWebhookTimeout -1s', $T ],
    [ 'IntegrationWebhookTimeout soon', $T ],
    [ 'IntegrationWebhookTimeout ms', $T ],
    [ 'IntegrationWebhookTimeout', $T1 ],
    [ 'IntegrationWebhookTimeout 1s 2s', $T1 ],
    [ 'IntegrationWebhookRetryDelays soon', $R ],
    [ 'IntegrationWebhookRetryDelays 1s soon', $R ],
    [ 'IntegrationWebhookRetryDelays -1s', $R ],
    [ 'IntegrationWebhookRetryDelays 86401s', $R ],
    [ 'IntegrationWebhookRetryDelays 25h', $R ],
    [ 'IntegrationWebhookRetryDelays 1s 5x', $R ],
    [ 'IntegrationWebhookRetryDelays 1d', $R ],
    [ 'IntegrationWebhookRetryDelays 1 2 3 4 5 6 7 8 9', $R8 ],
    [ "IntegrationWebhookRetryDelays 1 2 3 4 5\nIntegrationWebhookRetryDelays 6 7 8 9",
      $R8 ],
    [ 'IntegrationWebhookRetryDelays', $R0 ],
    [ 'IntegrationWebhookDisableAfter 0', $D ],
    [ 'IntegrationWebhookDisableAfter -1', $D ],
    [ 'IntegrationWebhookDisableAfter 1.5', $D ],
    [ 'IntegrationWebhookDisableAfter ten', $D ],
    [ 'IntegrationWebhookDisableAfter 10x', $D ],
    [ 'IntegrationWebhookDisableAfter 1000001', $D ],
    [ 'IntegrationWebhookDisableAfter', $D1 ],
    [ 'IntegrationWebhookAllowHttp yes', $A ],
    [ 'IntegrationWebhookAllowHttp 1', $A ],
    [ 'IntegrationWebhookAllowHttp true', $A ],
    [ 'IntegrationWebhookAllowHttp', $A ],
    [ 'IntegrationWebhookConcurrency 0', $C ],
    [ 'IntegrationWebhookConcurrency 1025', $C ],
    [ 'IntegrationWebhookConcurrency 8x', $C ],
    [ 'IntegrationWebhookConcurrency -1', $C ],
    [ 'IntegrationWebhookConcurrency', $C1 ],
    [ "<VirtualHost 127.0.0.1:1>\nIntegrationWebhookConcurrency 8\n</VirtualHost>",
      $CV ],
    [ 'IntegrationWebhookAllowNetworks 10.0.0.0/33',
      networks('10.0.0.0/33', 'has a prefix length too long for its address') ],
    [ 'IntegrationWebhookAllowNetworks 10.0.0.0/8 localhost',
      networks('localhost', 'is not an IPv4 or IPv6 address') ],
    [ 'IntegrationWebhookAllowNetworks 127.1',
      networks('127.1', 'is not an IPv4 or IPv6 address') ],
    [ 'IntegrationWebhookAllowNetworks ::/x',
      networks('::/x', 'has a prefix length that is not a number') ],
    [ 'IntegrationWebhookAllowNetworks', $N0 ],
    [ 'IntegrationWebhookAllowNetworks ' . join(' ', map { "10.$_.0.0/16" } 1 .. 65),
      'IntegrationWebhookAllowNetworks takes at most 64 networks; give wider ones' ],
    [ 'IntegrationWebhookAllowNetworks ' . join(' ', map { "10.$_.0.0/16" } 1 .. 40)
      . "\nIntegrationWebhookAllowNetworks " . join(' ', map { "10.$_.0.0/16" } 41 .. 65),
      'IntegrationWebhookAllowNetworks takes at most 64 networks; give wider ones' ],
    [ 'IntegrationWebhookProxy ftp://proxy.internal:21', $P ],
    [ 'IntegrationWebhookProxy proxy.internal:3128', $P ],
    [ 'IntegrationWebhookProxy http://', $P ],
    [ 'IntegrationWebhookCAFile /nonexistent/ca.pem', $CA ],
    [ 'IntegrationDbStatements prepared', $S ],
    [ 'IntegrationDbStatements', 'IntegrationDbStatements takes one argument, '
      . 'named: PostgreSQL statements prepared once per session; unnamed: '
      . 'sent whole each time, for a transaction pooler (default named)' ],
    [ in_vhost('IntegrationDbStatements unnamed'),
      global_only('IntegrationDbStatements') ],
    [ in_vhost('IntegrationWebhookAllowNetworks 10.0.0.0/8'),
      global_only('IntegrationWebhookAllowNetworks') ],
    [ in_vhost('IntegrationWebhookProxy none'), global_only('IntegrationWebhookProxy') ],
    [ in_vhost('IntegrationWebhookCAFile system'), global_only('IntegrationWebhookCAFile') ],
    [ 'IntegrationRateLimitStore memcached://h:11211',
      store('"memcached://h:11211"', 'is not a redis:// URL') ],
    [ 'IntegrationRateLimitStore rediss://h:6379',
      store('"rediss://h:6379"', 'is not a redis:// URL') ],
    [ 'IntegrationRateLimitStore redis',
      store('"redis"', 'is not a redis:// URL') ],
    [ 'IntegrationRateLimitStore redis://', store('"redis://"', 'has no host') ],
    [ 'IntegrationRateLimitStore redis://h:0',
      store('"redis://h:0"', 'has a port that is not a number from 1 to 65535') ],
    [ 'IntegrationRateLimitStore redis://h:65536',
      store('"redis://h:65536"', 'has a port that is not a number from 1 to 65535') ],
    [ 'IntegrationRateLimitStore redis://h:port',
      store('"redis://h:port"', 'has a port that is not a number from 1 to 65535') ],
    [ 'IntegrationRateLimitStore redis://h:6379/x',
      store('"redis://h:6379/x"', 'has a database that is not a number from 0 '
            . 'to 2147483647') ],
    [ 'IntegrationRateLimitStore redis://[::1/0',
      store('"redis://[::1/0"', 'has an IPv6 address that is not closed by ] '
            . 'or not valid') ],
    [ 'IntegrationRateLimitStore redis://h?timeout=1',
      store('"redis://h?timeout=1"', 'has more than a host, a port and a '
            . 'database number') ],
    # The URL is not repeated: what stands before @ may be a password.
    [ 'IntegrationRateLimitStore redis://:s3cret@h:6379',
      store('the URL', 'has credentials (user:password@), which are not '
            . 'supported') ],
    [ 'IntegrationRateLimitStore', $S1 ],
    [ 'IntegrationRateLimitStore shm redis://h', $S1 ],
    [ in_vhost('IntegrationRateLimitStore shm'),
      global_only('IntegrationRateLimitStore') ],
);

plan tests => @good + 2 * @bad + 1;

# httpd -t with a configuration (MI::Server::httpd_with: bounded);
# returns (exit code, what it said).
sub httpd_t {
    my ($body) = @_;
    return MI::Server::httpd_with($dir, "LoadModule dbd_module $mods/mod_dbd.so\n"
        . "LoadModule integration_module $ENV{MI_MODULE}\n"
        . "DBDriver $ENV{MI_DB_DRIVER}\nDBDParams \"$ENV{MI_DB_PARAMS}\"\n"
        . $body, '-t');
}

for my $g (@good) {
    my ($rc, $out) = httpd_t($g);
    (my $name = $g) =~ s/\n/; /g;
    ok t_cmp($rc, 0, "accepted: $name") or print STDERR "# $out";
}
for my $b (@bad) {
    my ($conf, $message) = @$b;
    my ($rc, $out) = httpd_t($conf);
    (my $name = $conf) =~ s/\n/; /g;
    ok t_cmp($rc == 0 || $rc == 124 ? "exit $rc" : 'refused', 'refused',
             "refused: $name");
    ok t_cmp($out =~ /^\Q$message\E$/m ? $message : $out, $message,
             "message for $name");
}
my (undef, $said) = httpd_t('IntegrationRateLimitStore redis://:s3cret@h:6379');
ok t_cmp(index($said, 's3cret'), -1,
         'a refused URL with credentials: the password is not repeated');
