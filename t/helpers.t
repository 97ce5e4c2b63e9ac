# The strict helpers of t/lib/MI/Test.pm fail where t_cmp and json_of
# pass (t_cmp(0, JSON::PP::false) and t_cmp("1", JSON::PP::true) are
# true, and json_of of an error body lacks every key): is_json tells booleans, numbers and strings apart; json_ok takes
# only a 2xx JSON response; is_absent and is_null take no error body.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use HTTP::Response ();
use MI::Test;

plan tests => 31, have_lwp;

my $true = JSON::PP::true();
my $false = JSON::PP::false();
my $d = decode_json('{"n":1,"s":"1","f":12.5,"t":true,"z":false,"u":null,'
                    . '"a":[1,"x",{"k":true}]}');
# Used as a string, as a test may have done before: still a number.
my $seen = "$d->{n} $d->{f}" . ($d->{n} eq '1');

# is_json: the same JSON, types included.
ok is_json($d->{t}, $true, 'true is true');
ok is_json($d->{z}, $false, 'false is false');
ok is_json($d->{n}, 1, 'a number is the number');
ok is_json($d->{f}, 12.5, 'a fraction is the fraction');
ok is_json($d->{s}, '1', 'a string is the string');
ok is_json($d->{u}, undef, 'null is null');
ok is_json($d->{a}, [ 1, 'x', { k => $true } ], 'structures compare deeply');
ok !is_json(0, $false, 'is_json(0, false) fails');
ok !is_json('1', $true, 'is_json("1", true) fails');
ok !is_json($d->{t}, 1, 'true is not 1');
ok !is_json($d->{z}, '', 'false is not ""');
ok !is_json($d->{s}, 1, 'the string "1" is not the number 1');
ok !is_json($d->{n}, '1', 'the number 1 is not the string "1"');
ok !is_json($d->{u}, 0, 'null is not 0');
ok !is_json($d->{a}, [ '1', 'x', { k => $true } ], 'nor inside a structure');
ok !is_json($d->{a}, [ 1, 'x', { k => 1 } ], 'nor deeper');

# json_ok: a 2xx response with a JSON body, or undef.
my $r = api(GET => '/suppliers');
ok t_cmp($r->code, 401, 'an error response');
ok t_cmp(json_ok($r), undef, 'json_ok refuses a 401');
ok t_cmp(json_ok(HTTP::Response->new(200, 'OK',
    [ 'Content-Type' => 'text/plain' ], '{"a":1}')), undef, 'and text/plain');
ok t_cmp(json_ok(HTTP::Response->new(200, 'OK',
    [ 'Content-Type' => 'application/json' ], 'not JSON')), undef,
    'and a body that is not JSON');
my $ok = json_ok(HTTP::Response->new(200, 'OK',
    [ 'Content-Type' => 'application/json; charset=utf-8' ],
    '{"u":null,"v":1,"o":{"w":null}}'));
ok t_cmp(ref $ok, 'HASH', 'json_ok takes a 200 JSON response');

# is_absent: only of a body json_ok checked.
ok is_absent($ok, 'x', 'a missing key is absent');
ok is_absent($ok->{o}, 'x', 'in a nested object too');
ok !is_absent($ok, 'u', 'a null is not absent');
ok !is_absent(json_of($r), 'x', 'is_absent takes no error body');
ok !is_absent(json_of(HTTP::Response->new(200, 'OK', [], 'not JSON')), 'x',
              'nor json_of of a body that is not JSON');
ok !is_absent(json_ok($r), 'x', 'nor what json_ok refused');

# is_null: a key that is there, and null.
ok is_null($ok, 'u', 'null is null');
ok is_null($ok->{o}, 'w', 'nested too');
ok !is_null($ok, 'x', 'a missing key is not null') && !is_null($ok, 'v', 'nor 1')
    && !is_null(json_of($r), 'x', 'nor a key of an error body');
ok !is_null(json_of(HTTP::Response->new(200, 'OK', [], 'not JSON')), 'x',
            'nor one of a body that is not JSON');
