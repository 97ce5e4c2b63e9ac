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
use Time::HiRes ();

our @EXPORT = qw(api json_of admin tenant integration db_driver encode_json
                 decode_json path_of in_parallel url_of twice_sent BASE);

use constant BASE => '/api/v1/integration';

my $json = JSON::PP->new->utf8->canonical;

# A failed check says what it got. t_cmp prints "expected:" and
# "received:" to STDOUT, which prove does not show; the lines of the last
# t_cmp are kept and said again on STDERR after Test's "# Failed test".
{
    package MI::Test::Echo;
    my @last;
    sub TIEHANDLE { my ($class, $fh, $kind) = @_; bless { fh => $fh, kind => $kind }, $class }
    sub PRINTF { my $self = shift; $self->PRINT(sprintf shift, @_) }
    sub PRINT {
        my $self = shift;
        my $text = join '', @_;
        print { $self->{fh} } $text;
        if ($self->{kind} eq 'debug') {
            for my $line (split /\n/, $text) {
                @last = () if $line =~ /^# testing :/
                    || ($line =~ /^# expected:/ && grep { /^# received:/ } @last);
                push @last, length $line > 400 ? substr($line, 0, 400) . '...' : $line;
            }
        } elsif ($text =~ /^# Failed test/) {
            print { $self->{fh} } map { "#   (last t_cmp) $_\n" } @last;
        }
        return 1;
    }
}
{
    open my $out, '>&', \*STDOUT or die "STDOUT: $!";
    open my $err, '>&', \*STDERR or die "STDERR: $!";
    $_->autoflush(1) for $out, $err;
    tie *MI_TEST_DEBUG, 'MI::Test::Echo', $out, 'debug';
    tie *MI_TEST_ERR, 'MI::Test::Echo', $err, 'err';
    $Apache::TestUtil::DEBUG_OUTPUT = \*MI_TEST_DEBUG;
    $Test::TESTERR = \*MI_TEST_ERR;
}

sub encode_json { $json->encode($_[0]) }
sub decode_json { $json->decode($_[0]) }
sub db_driver   { $ENV{MI_DB_DRIVER} or die "MI_DB_DRIVER is not set" }

# The absolute URL of a path below BASE (or of one under /api/,
# /elsewhere/ or /files/). With MI_VIA=h2c it is on the mi_h2c virtual
# host, which proxies every request to the default server over h2c
# (t/conf/extra.conf.in), so that the suites' requests reach the module as
# HTTP/2 streams.
sub url_of {
    my ($path) = @_;
    my $url = $path =~ m{^/(api|elsewhere|files)/} ? $path : BASE . $path;
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

# Strict checks, each returning true or false for ok() as t_cmp does.
# t_cmp compares a JSON::PP::Boolean by its string ("1" or "0"), so that
# t_cmp(0, JSON::PP::false) passes, and "1" equals 1; json_of answers any
# body, an error's or a non-JSON one ({ _raw => ... }), in which every key
# is missing.
push @EXPORT, qw(is_json json_ok is_absent is_null);
use Apache::TestUtil ();
use Hash::Util::FieldHash ();

Hash::Util::FieldHash::fieldhash(my %checked);    # refs json_ok returned
# ASCII: \u escapes, so that the debug lines print any text.
my $typed = JSON::PP->new->ascii->canonical->allow_nonref;

# The value as JSON text that tells the types apart: true/false, a number
# (a scalar that is a number and was never a string, as JSON::PP decodes
# and writes it), a "string", null; undef when it has no JSON form.
sub typed_json {
    my ($v) = @_;
    my $text = eval { $typed->encode($v) };
    return $text;
}

# is_json(GOT, EXPECTED, NAME): GOT and EXPECTED are the same JSON, types
# included: is_json($b->{success}, JSON::PP::true) fails on 1 or "1",
# is_json($b->{created}, 1) fails on "1"; structures compare deeply, by
# their canonical JSON text. (A null is is_null's: undef is also what a
# missing key gives.)
sub is_json {
    my ($got, $expected, $name) = @_;
    my ($g, $e) = (typed_json($got), typed_json($expected));
    Apache::TestUtil::t_debug("testing : $name") if defined $name;
    Apache::TestUtil::t_debug("expected: " . ($e // '(no JSON form)'));
    Apache::TestUtil::t_debug("received: " . ($g // '(no JSON form)'));
    return defined $g && defined $e && $g eq $e;
}

# json_ok(RESPONSE): the decoded body (an object or an array) of a 2xx
# response with Content-Type application/json, or undef (with the reason
# as a comment) for any other response: is_absent, is_null and is_json of
# it then fail (and json_ok($res)->{key} dies: fewer tests than planned).
sub json_ok {
    my ($res) = @_;
    my $type = $res->header('Content-Type') // '';
    my $data = eval { decode_json($res->content) };
    my $why = $res->code !~ /^2\d\d$/ ? 'status ' . $res->code
        : $type !~ m{^application/json\s*(;|$)}i ? "Content-Type '$type'"
        : !ref $data ? 'the body is not a JSON object or array'
        : undef;
    if (defined $why) {
        Apache::TestUtil::t_debug("json_ok: not a 2xx JSON response ($why): "
            . substr($res->content // '', 0, 200));
        return undef;
    }
    my @todo = ($data);
    while (my $ref = shift @todo) {
        $checked{$ref} = 1;
        push @todo, grep { ref eq 'HASH' || ref eq 'ARRAY' }
            ref $ref eq 'HASH' ? values %$ref : @$ref;
    }
    return $data;
}

# is_absent(OBJECT, KEY, NAME): OBJECT, an object of a body json_ok
# returned (that body or one nested in it), has no KEY. Any other OBJECT
# fails: a key is missing from every error body too.
sub is_absent {
    my ($obj, $key, $name) = @_;
    Apache::TestUtil::t_debug("testing : $name") if defined $name;
    unless (ref $obj eq 'HASH' && $checked{$obj}) {
        Apache::TestUtil::t_debug("is_absent: not an object of a body "
                                  . "json_ok checked");
        return 0;
    }
    Apache::TestUtil::t_debug("received: $key is "
        . (exists $obj->{$key} ? typed_json($obj->{$key}) // '?' : 'absent'));
    return !exists $obj->{$key};
}

# is_null(OBJECT, KEY, NAME): OBJECT has KEY, and it is null. OBJECT may
# also be a delivery's body that the test decoded itself (a key that is
# there proves the body is the one sent), but never json_of's stand-in for
# a body that is not JSON.
sub is_null {
    my ($obj, $key, $name) = @_;
    Apache::TestUtil::t_debug("testing : $name") if defined $name;
    unless (ref $obj eq 'HASH' && !exists $obj->{_raw}) {
        Apache::TestUtil::t_debug("is_null: not a JSON object");
        return 0;
    }
    Apache::TestUtil::t_debug("received: $key is "
        . (exists $obj->{$key} ? typed_json($obj->{$key}) // '?' : 'absent'));
    return exists $obj->{$key} && !defined $obj->{$key};
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

# The deliveries of webhook $hook_id that arrived more often than the
# attempts recorded for them, given $times{delivery id} = how many times
# each arrived: the same attempt sent twice. (A delivery may arrive again
# after a failed attempt, a receiver slowed by load missing the test's
# timeout say: a retry, counted.) Reads the deliveries listing once none
# is pending, or after 15 s; prints each one found.
sub twice_sent {
    my ($token, $hook_id, %times) = @_;
    my %attempts;
    my $until = Time::HiRes::time() + 15;
    while (1) {
        my ($page, $pending) = (1, 0);
        %attempts = ();
        while (1) {
            my $list = json_of(api(GET => "/webhook-events/$hook_id/deliveries"
                                   . "?limit=100&page=$page", token => $token));
            for (@{ $list->{data} // [] }) {
                $attempts{ $_->{id} } = $_->{attempts};
                $pending++ if $_->{status} eq 'PENDING';
            }
            last if $page * 100 >= ($list->{total} // 0);
            $page++;
        }
        last if !$pending || Time::HiRes::time() > $until;
        Time::HiRes::sleep(0.2);
    }
    my @twice = grep { $times{$_} > ($attempts{$_} // 0) } sort keys %times;
    print STDERR "# $_ arrived $times{$_} times, attempts recorded: "
        . ($attempts{$_} // 'none') . "\n" for @twice;
    return @twice;
}

1;
