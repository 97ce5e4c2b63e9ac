package MI::Test;
# Helpers for the Apache::Test suites: requests to the API, JSON, and the
# integration-admin tool on the suite's database.
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use JSON::PP ();
use IPC::Open3 ();
use Symbol ();
use Apache::TestRequest ();
use HTTP::Request ();
use POSIX ();

our @EXPORT = qw(api json_of admin tenant integration db_driver encode_json
                 decode_json path_of in_parallel url_of BASE);

use constant BASE => '/api/v1/integration';

my $json = JSON::PP->new->utf8->canonical;

sub encode_json { $json->encode($_[0]) }
sub decode_json { $json->decode($_[0]) }
sub db_driver   { $ENV{MI_DB_DRIVER} or die "MI_DB_DRIVER is not set" }

# The absolute URL of a path below BASE (or of one under /api/ or
# /elsewhere/). With MI_VIA=h2c it is on the mi_h2c virtual host, which
# proxies every request to the default server over h2c (t/conf/extra.conf.in),
# so that the suites' requests reach the module as HTTP/2 streams.
sub url_of {
    my ($path) = @_;
    my $url = $path =~ m{^/(api|elsewhere)/} ? $path : BASE . $path;
    my $via = $ENV{MI_VIA} // '';
    return Apache::TestRequest::resolve_url($url) if $via eq '';
    die "MI_VIA must be h2c or empty, not '$via'" unless $via eq 'h2c';
    local $Apache::TestRequest::Module = 'mi_h2c';
    return Apache::TestRequest::resolve_url($url);
}

# api(METHOD, PATH, token => T, body => REF_OR_STRING, headers => {...})
sub api {
    my ($method, $path, %o) = @_;
    my %h = %{ $o{headers} || {} };
    $h{Authorization} = "Bearer $o{token}" if defined $o{token};
    my $content;
    if (exists $o{body}) {
        $content = ref $o{body} ? encode_json($o{body}) : $o{body};
        $h{'Content-Type'} = 'application/json'
            unless exists $h{'Content-Type'};
        delete $h{'Content-Type'} unless defined $h{'Content-Type'};
    }
    my $req = HTTP::Request->new($method, url_of($path), [ %h ]);
    $req->content($content) if defined $content;
    return Apache::TestRequest::user_agent(keep_alive => 1)->request($req);
}

sub json_of {
    my ($res) = @_;
    my $body = $res->content;
    my $data = eval { decode_json($body) };
    return $data if $data;
    return { _raw => $body };
}

# The URL path of an externalId, percent-encoded as a client would.
sub path_of {
    my ($resource, $external_id) = @_;
    my $enc = $external_id;
    utf8::encode($enc) if utf8::is_utf8($enc);
    $enc =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return "/$resource/$enc";
}

# admin(ARGS...) -> (exit code, stdout, stderr)
sub admin {
    my @args = @_;
    my $bin = $ENV{MI_ADMIN} or die "MI_ADMIN is not set";
    my $err = Symbol::gensym;
    my $pid = IPC::Open3::open3(my $in, my $out, $err, $bin,
        '--driver', $ENV{MI_DB_DRIVER}, '--params', $ENV{MI_DB_PARAMS},
        @args);
    close $in;
    my $stdout = do { local $/; <$out> } // '';
    my $stderr = do { local $/; <$err> } // '';
    waitpid $pid, 0;
    return ($? >> 8, $stdout, $stderr);
}

# A fresh organization, integration and token with the given scopes.
sub tenant {
    my (%o) = @_;
    my ($rc, $org) = admin('org', 'create', $o{name} || 'Test Org');
    die "org create failed" if $rc;
    chomp $org;
    return integration($org, 'ERP', token_name => 'test',
                       scopes => $o{scopes}, expires => $o{expires});
}

# integration(ORG, NAME, token_name => N, scopes => S, expires => T): a new
# integration of the organization ORG and a token of its own (scopes 'all'
# unless told), as tenant() returns them.
sub integration {
    my ($org, $name, %o) = @_;
    my ($rc, $int) = admin('integration', 'create', '--org', $org, $name);
    die "integration create failed" if $rc;
    chomp $int;
    my @exp = $o{expires} ? ('--expires', $o{expires}) : ();
    (my $rc2, my $token) = admin('token', 'create', '--integration', $int,
                                 '--name', $o{token_name} // lc $name,
                                 '--scopes', $o{scopes} || 'all', @exp);
    die "token create failed" if $rc2;
    chomp $token;
    return { org => $org, integration => $int, token => $token };
}

# Runs $code->($k) for $k in 1 .. $n at once, each in a process and on a
# connection of its own; returns the lines of text the calls returned.
sub in_parallel {
    my ($n, $code) = @_;
    my @pids;
    pipe(my $rd, my $wr) or die "pipe: $!";
    for my $k (1 .. $n) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $rd;
            Apache::TestRequest::user_agent(reset => 1, keep_alive => 1);
            print $wr $code->($k), "\n";
            close $wr;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    close $wr;
    my @lines = map { chomp; $_ } <$rd>;
    waitpid $_, 0 for @pids;
    return @lines;
}

1;
