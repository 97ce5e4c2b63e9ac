# The API (and the metrics page) names no file: core's walk of the file system (a stat and a
# look for .htaccess per directory on the way) is skipped for the
# module's requests, so <Directory> sections do not apply to them, while
# they still apply to the files beside them. t/conf/httpd.conf.in mounts
# the API at /files/api, below a <Directory> that refuses everything.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use File::Path qw(make_path);
use MI::Test;

plan tests => 10, have_lwp;

# The directory exists, with a file in it and one where the API's path
# would be: the <Directory> applies to whatever a request maps into it.
my $dir = Apache::Test::vars('documentroot') . '/files';
make_path("$dir/api");
for my $file ("$dir/page.json", "$dir/api/health", "$dir/metrics") {
    open my $fh, '>', $file or die "$file: $!";
    print $fh "{}\n";
    close $fh;
}

my $r = api(GET => '/files/page.json');
ok t_cmp($r->code, 403, 'the <Directory> refuses the file beside the API');

$r = api(GET => '/files/api/health');
ok t_cmp($r->code, 200, 'the API below it answers: health');
ok t_cmp(json_of($r)->{status}, 'ok', 'from the module, not the file');

my $t = tenant();
$r = api(POST => '/files/api/suppliers', token => $t->{token},
         body => { suppliers => [ { externalId => 'NAF-1', name => 'n' } ] });
ok t_cmp($r->code, 200, 'a write below it');
$r = api(GET => '/files/api/suppliers', token => $t->{token});
ok t_cmp($r->code, 200, 'a listing below it');
ok t_cmp(join(',', map { $_->{externalId} } @{ json_of($r)->{entities} }),
         'NAF-1', 'lists what was written');

# The metrics page, mounted below it too.
$r = api(GET => '/files/metrics');
ok t_cmp($r->code, 200, 'the metrics page below it answers');
ok t_cmp($r->content, qr/^# (HELP|TYPE) /m, 'from the module, not the file');

# Dot segments, plain or encoded, leave the API before any walk: what they
# name is the file, refused.
$r = api(GET => '/files/api/../page.json');
ok t_cmp($r->code, 403, '/files/api/../page.json is the refused file');
$r = api(GET => '/files/api/%2e%2e/page.json');
ok t_cmp($r->code, 403, '/files/api/%2e%2e/page.json is the refused file');
