# The scope matrix (API.md sections 1 and 2): every route of the API, asked
# with a token of each single scope, of every scope but one, of every
# scope, and of none: exactly the tokens holding the route's own scope pass
# the gate, every other one gets 403 INSUFFICIENT_SCOPES naming that scope.
# The routes are those of docs/openapi.json (served at /openapi.json;
# t/openapi.t proves each of them routed and nothing else), and they must
# be, with their scopes, those that API.md names.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use Digest::SHA qw(sha256_hex);
use MI::Test;

# API.md section 2: the scopes, exact.
my @scopes = qw(integration:suppliers:read integration:suppliers:write
    integration:products:read integration:products:write
    integration:batches:read integration:batches:write integration:dds:read
    integration:webhooks:manage integration:sync:read);

# The routes API.md names, with the scope each needs ('' for none): the
# resources' (sections 4, 5 and 7), DDS (6), sync (8), webhooks (9) and
# the service endpoints (11).
my %contract = (
    (map { my ($r) = $_; (
        "GET /$r"               => "integration:$r:read",
        "POST /$r"              => "integration:$r:write",
        "GET /$r/{}"            => "integration:$r:read",
        "DELETE /$r/{}"         => "integration:$r:write",
    ) } qw(suppliers products batches)),
    'GET /dds/{}'                         => 'integration:dds:read',
    'GET /sync-status'                    => 'integration:sync:read',
    'GET /sync-logs'                      => 'integration:sync:read',
    'POST /webhook-events'                => 'integration:webhooks:manage',
    'GET /webhook-events'                 => 'integration:webhooks:manage',
    'GET /webhook-events/{}'              => 'integration:webhooks:manage',
    'PATCH /webhook-events/{}'            => 'integration:webhooks:manage',
    'DELETE /webhook-events/{}'           => 'integration:webhooks:manage',
    'POST /webhook-events/{}/rotate-secret' => 'integration:webhooks:manage',
    'POST /webhook-events/{}/test'        => 'integration:webhooks:manage',
    'GET /webhook-events/{}/deliveries'   => 'integration:webhooks:manage',
    'POST /webhook-events/{}/deliveries/{}/redeliver'
                                          => 'integration:webhooks:manage',
    'GET /health'                         => '',
    'GET /openapi.json'                   => '',
);

# The documented operations, as t/openapi.t reads them: [ METHOD, path
# template, scope or '' ].
my $doc = json_ok(api(GET => '/openapi.json'))
    or die "the OpenAPI document is not served";
my @routes;
for my $p (sort keys %{ $doc->{paths} || {} }) {
    for my $m (grep { $doc->{paths}{$p}{$_} } qw(get post put patch delete)) {
        my $op = $doc->{paths}{$p}{$m};
        my @req = @{ $op->{security} || $doc->{security} || [] };
        my $scope = @req && $req[0]{bearerAuth} ? $req[0]{bearerAuth}[0] : '';
        push @routes, [ uc $m, $p, $scope // '' ];
    }
}
die "no operations in the document" if @routes < 10;
sub key_of { "$_[0] " . ($_[1] =~ s/\{[^}]+\}/{}/gr) }

# The tokens, all of one integration: a row of the matrix each.
my ($rc, $org) = admin('org', 'create', 'Scopes');
die "org create failed" if $rc;
chomp $org;
my $int = integration($org, 'ERP', scopes => 'all');
my $n = 0;
sub token_with {
    my ($scopes) = @_;
    my ($rc, $out) = admin('token', 'create', '--integration',
                           $int->{integration}, '--name', 'scope-' . ++$n,
                           '--scopes', $scopes);
    die "token create --scopes $scopes failed" if $rc;
    chomp $out;
    return $out;
}
my @rows;    # [ label, token, { scope => 1 } ]
for my $s (@scopes) {
    push @rows, [ "only $s", token_with($s), { $s => 1 } ];
}
for my $s (@scopes) {
    my @others = grep { $_ ne $s } @scopes;
    push @rows, [ "every scope but $s", token_with(join ',', @others),
                  { map { $_ => 1 } @others } ];
}
push @rows, [ 'every scope', $int->{token}, { map { $_ => 1 } @scopes } ];

# A token of no scope: the admin tool refuses to make one (a token has at
# least one scope: API.md section 10), so one is made in the database, as
# a stray row would be; it passes no gate.
my ($none_rc, $none_out) = admin('token', 'create', '--integration',
    $int->{integration}, '--name', 'none', '--scopes', '');
my $none = token_with('integration:sync:read');
{
    my $sql = "UPDATE tokens SET scopes = '' WHERE token_hash = '"
        . sha256_hex($none) . "'";
    my @cmd = db_driver() eq 'sqlite3'
        ? ('sqlite3', $ENV{MI_DB_PARAMS}, "$sql; SELECT changes();")
        : ('psql', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $ENV{MI_DB_PARAMS},
           '-c', "WITH u AS ($sql RETURNING 1) SELECT count(*) FROM u");
    open(my $fh, '-|', @cmd) or die "$cmd[0]: $!";
    my $changed = do { local $/; <$fh> } // '';
    close $fh;
    die "the token's scopes were not emptied ($changed)"
        unless $changed =~ /^1\s*\z/;
}
push @rows, [ 'no scope', $none, {} ];

plan tests => 4 + @routes * @rows, have_lwp;

ok t_cmp(join("\n", sort map { key_of(@$_) . " -> $_->[2]" } @routes),
         join("\n", sort map { "$_ -> $contract{$_}" } keys %contract),
         'the documented routes and their scopes are those of API.md');
(my $list_rc, my $list) = admin('token', 'list', '--integration',
                                $int->{integration}, '--json');
my ($all) = grep { $_->{prefix} eq substr($int->{token}, 0, 16) }
            @{ decode_json($list) };
ok t_cmp(join(',', sort split /,/, $all->{scopes} // ''),
         join(',', sort @scopes), '--scopes all grants the scopes of API.md');
ok t_cmp($none_rc, 1, 'a token of no scope is a usage error');
ok t_cmp($none_out, '', 'and prints no token');

# A request each route answers without side effects once past the gate:
# unknown ids (404) and bodies that fail validation (400). The same request
# goes with every token, so that only the token's scopes tell the answers
# apart.
sub request {
    my ($method, $path, $token) = @_;
    $path =~ s/\{[^}]+\}/NO-SUCH-RECORD/g;
    return api($method => $path, token => $token,
               ($method =~ /^(POST|PATCH)$/ ? (body => {}) : ()));
}

for my $route (@routes) {
    my ($method, $path) = @$route;
    my $label = "$method $path";
    my $scope = $contract{ key_of($method, $path) } // '(not in API.md)';
    for my $row (@rows) {
        my ($who, $token, $holds) = @$row;
        my $res = request($method, $path, $token);
        if ($scope eq '') {
            ok t_cmp($res->code, qr/^(200|503)$/,
                     "$label is served to a token of $who");
        }
        elsif ($holds->{$scope}) {
            ok t_cmp($res->code, qr/^(200|400|404)$/,
                     "$label passes the gate with $who");
        }
        else {
            my $body = json_of($res);
            ok t_cmp(join(' | ', $res->code, $body->{error} // '',
                          $body->{message} // '',
                          $res->header('WWW-Authenticate') // ''),
                     join(' | ', 403, 'INSUFFICIENT_SCOPES',
                          "Token lacks the required scope $scope",
                          qq{Bearer error="insufficient_scope", scope="$scope"}),
                     "$label refused to $who: needs $scope");
        }
    }
}
