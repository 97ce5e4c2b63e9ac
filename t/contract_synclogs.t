# Sync logs (API.md section 8) against the writes that make them: status
# SUCCESS (no record failed), PARTIAL (some failed), ERROR (all failed); the
# actions CREATE, UPDATE and DELETE; every member of a SyncLog with its value
# and JSON type; newest first; the filters; an organization's logs from all
# its integrations, and no other organization's.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();
use Time::HiRes qw(sleep);
use MI::Test;

plan tests => 27, have_lwp;

my $t = tenant(name => 'Sync logs');
my $tok = $t->{token};
my $ISO = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
# A type-strict comparison (MI::Test's is_json), as a test of its own.
sub same { ok is_json(@_) }
sub post { my ($what, $recs, %x) = @_;
           my $r = api(POST => "/$what", token => $x{token} // $tok,
                       body => { $what => $recs });
           sleep 0.005;    # one log per millisecond at most: a defined order
           return $r }
sub logs { my $r = api(GET => "/sync-logs$_[0]", token => $_[1] // $tok);
           $r->code == 200 ? json_of($r) : { _status => 0 + $r->code } }
# A log without the members that vary, which are checked on their own.
sub core { my ($l) = @_;
           return { map { $_ => $l->{$_} } grep { !/^(id|startedAt|completedAt|createdAt)$/ }
                    keys %$l } }

my $int = $t->{integration};
post(suppliers => [ { externalId => 'S-1', name => 'one' },
                    { externalId => 'S-2', name => 'two' } ]);           # 1
post(suppliers => [ { externalId => 'S-1', name => 'uno' },
                    { externalId => 'S-2', name => 'dos' } ]);           # 2
post(suppliers => [ { externalId => 'S-3' }, { name => 'no id' } ]);     # 3
post(products => [ { externalId => 'P-1', name => 'p' },
                   { externalId => 'P-2', name => 'q', country => 'XX' },
                   { externalId => 'P-3', name => 'r' } ]);               # 4
post(batches => [ { externalId => 'B-1', productExternalId => 'P-1',
                    batchNumber => 'b' } ]);                              # 5
api(DELETE => '/products/P-3', token => $tok);                            # 6
sleep 0.005;
post(products => []);                                                      # 7

my $g = logs('?limit=100');
same([ $g->{total}, $g->{page}, $g->{limit}, $g->{totalPages} ], [ 7, 1, 100, 1 ],
     'seven requests, seven logs; page, limit, totalPages');
my @l = @{ $g->{data} || [] };
same([ map { "$_->{entityType} $_->{action} $_->{status}" } @l ],
     [ 'PRODUCT CREATE SUCCESS', 'PRODUCT DELETE SUCCESS', 'BATCH CREATE SUCCESS',
       'PRODUCT CREATE PARTIAL', 'SUPPLIER CREATE ERROR',
       'SUPPLIER UPDATE SUCCESS', 'SUPPLIER CREATE SUCCESS' ],
     'newest first, with their entity types, actions and statuses');
same([ map { [ sort keys %$_ ] } @l[0, 4] ],
     [ ([ sort qw(id integrationId entityType action status recordsAffected
                  errorMessage metadata startedAt completedAt createdAt) ]) x 2 ],
     'a SyncLog has exactly its members');

my %want = (
    6 => { entityType => 'SUPPLIER', action => 'CREATE', status => 'SUCCESS',
           recordsAffected => 2, errorMessage => undef, integrationId => $int,
           metadata => { created => 2, updated => 0, errors => 0 } },
    5 => { entityType => 'SUPPLIER', action => 'UPDATE', status => 'SUCCESS',
           recordsAffected => 2, errorMessage => undef, integrationId => $int,
           metadata => { created => 0, updated => 2, errors => 0 } },
    3 => { entityType => 'PRODUCT', action => 'CREATE', status => 'PARTIAL',
           recordsAffected => 2, errorMessage => '1 of 3 records failed',
           integrationId => $int,
           metadata => { created => 2, updated => 0, errors => 1 } },
    2 => { entityType => 'BATCH', action => 'CREATE', status => 'SUCCESS',
           recordsAffected => 1, errorMessage => undef, integrationId => $int,
           metadata => { created => 1, updated => 0, errors => 0 } },
    0 => { entityType => 'PRODUCT', action => 'CREATE', status => 'SUCCESS',
           recordsAffected => 0, errorMessage => undef, integrationId => $int,
           metadata => { created => 0, updated => 0, errors => 0 } },
);
for my $i (sort { $b <=> $a } keys %want) {
    same(core($l[$i] // {}), $want{$i},
         "log $i: $want{$i}{entityType} $want{$i}{action} $want{$i}{status}, "
         . 'every member');
}
# All failed: ERROR, nothing affected, the failures counted.
my $err = $l[4] // {};
same([ @$err{qw(entityType status recordsAffected errorMessage integrationId)},
       $err->{metadata} ],
     [ 'SUPPLIER', 'ERROR', 0, '2 of 2 records failed', $int,
       { created => 0, updated => 0, errors => 2 } ], 'all failed: ERROR');
ok t_cmp(($err->{action} // '') =~ /^(CREATE|UPDATE|DELETE|FULL_SYNC)$/ ? 1 : 0,
         1, 'with one of the actions');
# A delete: DELETE, one record affected.
my $del = $l[1] // {};
same([ @$del{qw(entityType action status recordsAffected errorMessage)},
       @{ $del->{metadata} || {} }{qw(created updated errors)} ],
     [ 'PRODUCT', 'DELETE', 'SUCCESS', 1, undef, 0, 0, 0 ], 'a delete');

# Times and ids.
ok t_cmp(scalar(grep { ($_->{startedAt} // '') =~ $ISO
                       && ($_->{completedAt} // '') =~ $ISO
                       && ($_->{createdAt} // '') =~ $ISO } @l), 7,
         'startedAt, completedAt, createdAt: ISO times');
ok t_cmp(scalar(grep { $_->{startedAt} le $_->{completedAt} } @l), 7,
         'started before completed');
ok t_cmp(scalar(keys %{ { map { ($_->{id} // '') => 1 } @l } }), 7,
         'seven distinct ids');
ok t_cmp(scalar(grep { $l[$_ - 1]{createdAt} ge $l[$_]{createdAt} } 1 .. $#l),
         6, 'createdAt descending');

# Filters.
same([ map { $_->{status} } @{ logs('?status=ERROR')->{data} || [] } ],
     [ 'ERROR' ], 'status=ERROR');
same([ map { $_->{status} } @{ logs('?status=PARTIAL')->{data} || [] } ],
     [ 'PARTIAL' ], 'status=PARTIAL');
same(logs('?status=SUCCESS')->{total}, 5, 'status=SUCCESS');
same([ map { "$_->{entityType} $_->{action}" }
       @{ logs('?entityType=SUPPLIER')->{data} || [] } ],
     [ 'SUPPLIER CREATE', 'SUPPLIER UPDATE', 'SUPPLIER CREATE' ], 'entityType=SUPPLIER');
same([ map { $_->{status} } @{ logs('?entityType=PRODUCT&status=SUCCESS')->{data}
                                   || [] } ], [ 'SUCCESS', 'SUCCESS' ],
     'both filters');
same(logs('?status=IN_PROGRESS')->{total}, 0, 'status=IN_PROGRESS is a filter');
$g = logs('?limit=3&page=3');
same([ $g->{total}, $g->{totalPages}, scalar @{ $g->{data} || [] },
       ($g->{data}[0] // {})->{id} ], [ 7, 3, 1, $l[6]{id} ],
     'pages: the oldest on the last page');
same(logs('?entityType=WIDGET')->{_status}, 400, 'bad entityType');

# Another integration of the organization: its logs, with its id, are the
# organization's; another organization sees none of them.
my $i2 = integration($t->{org}, 'WMS');
post(suppliers => [ { externalId => 'S-9', name => 'nine' } ], token => $i2->{token});
my ($newest) = @{ logs('?limit=1')->{data} || [] };
same([ $newest->{integrationId}, $newest->{entityType}, $newest->{status} ],
     [ $i2->{integration}, 'SUPPLIER', 'SUCCESS' ],
     "another integration's write is in the organization's logs, with its id");
same(logs('?limit=1', $i2->{token})->{total}, 8, 'which it sees too');
my $o = tenant(name => 'Sync logs other');
post(suppliers => [ { externalId => 'S-1', name => 'x' } ], token => $o->{token});
$g = logs('?limit=100', $o->{token});
same([ $g->{total}, [ map { $_->{integrationId} } @{ $g->{data} || [] } ] ],
     [ 1, [ $o->{integration} ] ], 'another organization sees only its own log');
same(logs('?limit=1')->{total}, 8, 'and adds none to this one');
