# PostgreSQL only: a write that the database rolls back to break a deadlock
# is run again, and the client sees its request succeed.
#
# The API request updates DL-0 and then waits for DL-2, which a second
# session (psql) is updating; psql then updates DL-0 too, and waits for the
# API request. The API request's backend, waiting longer, finds the cycle
# after deadlock_timeout (1 s) and is rolled back; psql goes on and
# commits; the API runs its write again, now updating both. (DL-0 is
# stored first: whatever the plan, the update meets it first.)
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok have_lwp);
use Apache::TestUtil qw(t_cmp);
use IO::Handle;
use Time::HiRes qw(sleep);
use MI::Test;

plan tests => 6, have_lwp;

die "this suite runs against PostgreSQL only" unless db_driver() eq 'pgsql';

my $t = tenant();
my $tok = $t->{token};
my $org = $t->{org};
sub post {
    api(POST => '/suppliers', token => $tok, body => { suppliers => [@_] });
}
# Waits (at most 20 s) until a session of the test database is in state.
sub wait_for_session {
    my ($cond) = @_;
    my $sql = 'SELECT count(*) FROM pg_stat_activity '
            . "WHERE datname = current_database() AND $cond";
    for (1 .. 200) {
        my $n = `psql -At '$ENV{MI_DB_PARAMS}' -c "$sql"`;
        return 1 if $n && $n > 0;
        sleep 0.1;
    }
    return 0;
}
# The log from here on: the file may be run twice on one server (MI_VIA).
my $log_start = -s 't/logs/error_log' // 0;
my @made;
for my $id ('DL-0', 'DL-2') {
    push @made, post({ externalId => $id, name => 'before' })->code;
}
ok t_cmp(join(',', @made), '200,200', 'two suppliers');

open(my $psql, '|-', "psql -q -v ON_ERROR_STOP=1 '$ENV{MI_DB_PARAMS}' "
                   . '>/dev/null') or die "psql: $!";
$psql->autoflush(1);
print $psql "BEGIN;\nUPDATE suppliers SET name = 'psql' "
          . "WHERE organization_id = '$org' AND external_id = 'DL-2';\n";
wait_for_session("state = 'idle in transaction' "
                 . "AND query LIKE 'UPDATE suppliers SET name = ''psql''%'")
    or die "the psql session did not take its lock";

my @answers = in_parallel(2, sub {
    my ($k) = @_;
    if ($k == 1) {
        return post(map { { externalId => $_, name => 'api' } }
                    'DL-0', 'DL-2')->code;
    }
    # Once the API request waits for DL-2 (having updated DL-0): the only
    # session that can wait for a lock now. Whatever happens, the psql
    # session ends, so that the request cannot wait forever.
    my $waits = wait_for_session("wait_event_type = 'Lock'");
    print $psql "UPDATE suppliers SET name = 'psql' WHERE organization_id = "
              . "'$org' AND external_id = 'DL-0';\n" if $waits;
    print $psql "COMMIT;\n";
    return $waits ? 'psql went on' : 'the API request never waited for the lock';
});
my ($code) = grep { /^\d+$/ } @answers;
my ($scenario) = grep { !/^\d+$/ } @answers;
close $psql;
my $psql_rc = $? >> 8;
# The precondition: without it there is no deadlock, and the checks below
# would pass on a plain write (but for the log line).
ok t_cmp($scenario, 'psql went on',
         'the API request waited for the lock of the other session');
ok t_cmp($psql_rc, 0, 'the other session committed');
ok t_cmp($code, 200, 'the write rolled back for a deadlock succeeds');
ok t_cmp(join(',', map { json_of(api(GET => "/suppliers/$_", token => $tok))
                             ->{name} } 'DL-0', 'DL-2'),
         'api,api', 'its attempt after the other session is what is stored');
my $log = do {
    open my $fh, '<', 't/logs/error_log' or die "error_log: $!";
    seek $fh, $log_start, 0;
    local $/;
    <$fh>;
};
# The deadlock took place: PostgreSQL rolled the API's write back with
# 40P01, and the module ran it again (MI00103).
ok t_cmp($log, qr/MI00103: running the write again \(attempt 2\): .*40P01/,
         'the retry is logged with the SQLSTATE');
