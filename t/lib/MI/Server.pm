package MI::Server;
# A private httpd with a configuration of a test's own (as t/outage.t
# runs one), for what the suite's server cannot show: its directives'
# defaults, a database made unavailable under it. Every wait is bounded;
# the server is stopped when the object goes (or the test dies).
#
#   my $s = MI::Server->new(conf => "IntegrationRateLimit 5 60",
#                           vhosts => [ "IntegrationRateLimit 0" ]);
#   $s->start or die;
#   $s->url('/suppliers');        # the main server
#   $s->url('/suppliers', 1);     # the first <VirtualHost>
use strict;
use warnings FATAL => 'all';

use parent 'MI::Httpd';
use LWP::UserAgent ();
use Time::HiRes qw(sleep);
use MI::Test qw(BASE);

sub free_port { MI::Httpd::free_port() }

# new(conf => TEXT, vhosts => [ TEXT, ... ], params => DBDPARAMS)
sub new {
    my ($class, %o) = @_;
    my $self = $class->make(
        conf => $o{conf} // '', vhosts => $o{vhosts} || [],
        params => $o{params} // $ENV{MI_DB_PARAMS},
        ports => [ map { free_port() } 0 .. @{ $o{vhosts} || [] } ],
        ua => LWP::UserAgent->new(timeout => 10, keep_alive => 0),
    );
    $self->write_conf;
    return $self;
}
# The port of the main server (or of the Nth vhost).
sub port { $_[0]{ports}[$_[1] // 0] }
sub ua  { $_[0]{ua} }

# The URL of PATH below BASE on the main server (or on the Nth vhost).
sub url {
    my ($self, $path, $n) = @_;
    return "http://127.0.0.1:$self->{ports}[$n // 0]" . BASE . $path;
}

sub write_conf {
    my ($self) = @_;
    my $mods = $ENV{MI_HTTPD_MODULES} or die "MI_HTTPD_MODULES is not set";
    # The suite's (its database may be behind PgBouncer).
    my $statements = $ENV{MI_DB_STATEMENTS}
        ? "IntegrationDbStatements $ENV{MI_DB_STATEMENTS}\n" : '';
    my $vhosts = '';
    for my $i (1 .. @{ $self->{vhosts} }) {
        $vhosts .= "<VirtualHost 127.0.0.1:$self->{ports}[$i]>\n"
            . "$self->{vhosts}[$i - 1]\n"
            . "<Location /api/v1/integration>\n    SetHandler integration\n"
            . "</Location>\n</VirtualHost>\n";
    }
    $self->write_conf_text($self->conf_head(@{ $self->{ports} }) . <<CONF);
LogLevel warn
LoadModule dbd_module $mods/mod_dbd.so
LoadModule integration_module $ENV{MI_MODULE}
StartServers 1
DBDriver $ENV{MI_DB_DRIVER}
DBDParams "$self->{params}"
DBDMin 1
DBDKeep 1
DBDMax 1
IntegrationDbTimeout 2s
$statements$self->{conf}
<Location /api/v1/integration>
    SetHandler integration
</Location>
$vhosts
CONF
}

# Starts the server and waits (at most 10 s) until /health answers
# anything: 1 when it does.
sub start {
    my ($self) = @_;
    $self->httpd('start') or return 0;
    for (1 .. 50) {
        my $r = $self->{ua}->get($self->url('/health'));
        # LWP's own 500 when nothing answered.
        return 1 unless ($r->header('Client-Warning') // '') eq 'Internal response';
        sleep 0.2;
    }
    return 0;
}

sub graceful {
    my ($self) = @_;
    $self->httpd('graceful') or die "graceful restart failed";
}

# The status /health settles on within 10 s (the first answer of a new
# child may still be the old generation's).
# The answer it settled on is kept: last_health.
sub health_becomes {
    my ($self, $want) = @_;
    my $r;
    for (1 .. 50) {
        $r = $self->{last_health} = $self->{ua}->get($self->url('/health'));
        return $r->code if $r->code == $want;
        sleep 0.2;
    }
    return $r->code;
}
sub last_health { $_[0]{last_health} }

# MI::Server::httpd_with(DIR, BODY, ARGS...): runs httpd once, bounded,
# with a minimal configuration in DIR (ServerRoot, a Listen it never
# binds with -t, the event MPM) followed by BODY; returns (exit code, what
# it printed and logged). timeout(1) ends an httpd that should have
# refused to start but did not (exit 124, or 137 if it had to be killed):
# callers assert the exit code. Generous: a refusal takes a fraction of a
# second, but under the sanitizers and a loaded machine more.
sub httpd_with {
    my ($dir, $body, @args) = @_;
    my $limit = 30;
    my $mods = $ENV{MI_HTTPD_MODULES};
    my $conf = "$dir/httpd.conf";
    open my $fh, '>', $conf or die $!;
    print $fh <<CONF;
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:1
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
ErrorLog "$dir/error_log"
LoadModule mpm_event_module $mods/mod_mpm_event.so
$body
CONF
    close $fh;
    unlink "$dir/error_log";
    my $out = `timeout -k 5 $limit $ENV{MI_HTTPD} -f $conf @args 2>&1`;
    my $rc = $? >> 8;
    $out .= "(httpd still ran after $limit s: stopped)\n"
        if $rc == 124 || $rc == 137;
    if (open my $log, '<', "$dir/error_log") {
        local $/;
        $out .= <$log>;
    }
    return ($rc, $out);
}

1;
