# The logs (API.md section 11, docs/logs.md): the access log of the
# documented LogFormat (t/conf/httpd.conf.in, integration_log) shows the
# token's id as REMOTE_USER and the notes integration-org, integration-id
# and integration-records; a failed authentication leaves an info line in
# the error log with the client's address and the token's display prefix,
# never the token nor its hash.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(time sleep);
use MI::Test;

plan tests => 16, have_lwp;

my $logs = Apache::Test::vars('t_logs');
my $access = "$logs/integration_log";
my $errors = "$logs/error_log";

sub size_of { -s $_[0] // 0 }

# The lines of a log from byte $from on that match $re, waiting (a log line
# is written just after the answer) up to 10 s for one.
sub lines_matching {
    my ($file, $from, $re) = @_;
    my $until = time + 10;
    while (1) {
        open my $fh, '<', $file or die "$file: $!";
        seek $fh, $from, 0;
        my @hits = grep { $_ =~ $re } <$fh>;
        close $fh;
        return @hits if @hits || time >= $until;
        sleep 0.1;
    }
}

sub text_since {
    my ($file, $from) = @_;
    open my $fh, '<', $file or die "$file: $!";
    seek $fh, $from, 0;
    local $/;
    return <$fh> // '';
}

my $t = tenant();
my (undef, $list) = admin('token', 'list', '--integration', $t->{integration},
                          '--json');
my $token_id = decode_json($list)->[0]{id};

# ---- the access log -------------------------------------------------------
my $from = size_of($access);
my $res = api(POST => '/suppliers', token => $t->{token}, body => {
    suppliers => [ { externalId => 'LOG-1', name => 'a' },
                   { externalId => 'LOG-2', name => 'b' } ] });
ok t_cmp($res->code, 200, 'a POST of two records');
my @lines = lines_matching($access, $from, qr/ org=\Q$t->{org}\E /);
ok t_cmp(scalar @lines, 1, 'one access log line with the organization');
my $line = $lines[0] // '';
ok t_cmp($line, qr{^\S+ - \Q$token_id\E \[}, 'REMOTE_USER is the token id');
ok t_cmp($line, qr{"POST /api/v1/integration/suppliers HTTP/[\d.]+" 200 },
         'the request and its status');
ok t_cmp($line, qr{ integration=\Q$t->{integration}\E }, 'integration-id');
ok t_cmp($line, qr{ records=2$}, 'integration-records: the records sent');

$from = size_of($access);
my $probe = 'probe' . int(rand(1e9));
api(GET => "/suppliers?limit=1&$probe=1", token => $t->{token});
($line) = lines_matching($access, $from, qr/\Q$probe\E.* org=\Q$t->{org}\E /);
ok t_cmp($line // '', qr{ records=-$}, 'a read: no records note');

$from = size_of($access);
api(GET => "/suppliers?$probe=2");
($line) = lines_matching($access, $from, qr/\Q$probe\E=2/);
ok t_cmp($line // '', qr{^\S+ - - \[.* 401 .* org=- integration=- records=-$},
         'a refused request: no user, no notes');

# ---- the audit lines of failed authentications ---------------------------
my $hex = join '', map { sprintf '%02x', int rand 256 } 1 .. 24;
my $bad = "eudr_live_$hex";
$from = size_of($errors);
$res = api(GET => '/suppliers', token => $bad);
ok t_cmp($res->code, 401, 'an unknown token is refused');
my ($audit) = lines_matching($errors, $from,
    qr/MI00202: authentication failed: INVALID_TOKEN /);
ok t_cmp($audit // '', qr/\[integration:info\]/, 'logged at info');
ok t_cmp($audit // '', qr/ from 127\.0\.0\.1, token \Q@{[substr $bad, 0, 16]}\E\.\.\.$/,
         'with the client address and the token\'s display prefix');
my $text = text_since($errors, $from);
ok t_cmp(index($text, $bad), -1, 'the error log does not contain the token');
ok t_cmp(index($text, sha256_hex($bad)), -1, '...nor its hash');
ok t_cmp(index($text, substr($bad, 0, 17)), -1,
         '...nor more of it than the display prefix');

$from = size_of($errors);
api(GET => '/suppliers', token => "eudr_live_${hex}zz");
($audit) = lines_matching($errors, $from, qr/INVALID_TOKEN_FORMAT/);
ok t_cmp($audit // '', qr/a malformed token of 60 characters$/,
         'a malformed token: only its length');

# A revoked token: the id is known, and logged with the prefix.
my $rv = tenant();
admin('token', 'revoke', $rv->{token});
$from = size_of($errors);
api(GET => '/suppliers', token => $rv->{token});
($audit) = lines_matching($errors, $from, qr/TOKEN_REVOKED/);
ok t_cmp($audit // '',
         qr/TOKEN_REVOKED from 127\.0\.0\.1, token \Q@{[substr $rv->{token}, 0, 16]}\E\.\.\.$/,
         'a revoked token: its prefix');
