package MI::DB;
# The suite's database read and written straight, by the database's own
# client (sqlite3 on the file, psql with the suite's parameters): for what
# the API does not show (what is stored at rest, a stored row made older).
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use IPC::Open3 ();
use Symbol ();
use Time::HiRes ();

our @EXPORT = qw(db_rows db_dump pg_args own_database drop_database
                 hold_write_lock release_write_lock);

# The psql/pg_dump connection options of the suite's PostgreSQL
# parameters (or of PARAMS).
sub pg_args {
    my ($params) = @_;
    my %p = map { split /=/, $_, 2 } split ' ', $params // $ENV{MI_DB_PARAMS};
    return ('-h', $p{host}, '-p', $p{port}, '-U', $p{user}, '-d', $p{dbname});
}

# own_database(TAG): a database of the test's own, migrated, for a private
# server (MI::Server) whose delivery thread must not take the suite's
# deliveries: its DBDParams. A SQLite file in a directory removed at exit,
# or a PostgreSQL database beside the suite's (drop_database removes it).
sub own_database {
    my ($tag) = @_;
    my $driver = $ENV{MI_DB_DRIVER} or die "MI_DB_DRIVER is not set";
    my $params;
    if ($driver eq 'sqlite3') {
        require File::Temp;
        my $dir = File::Temp::tempdir(CLEANUP => 1);
        chmod 0777, $dir;
        $params = "$dir/$tag.db";
    }
    else {
        my $db = "mi_${tag}_$$";
        db_rows("CREATE DATABASE $db");
        ($params = $ENV{MI_DB_PARAMS}) =~ s/dbname=\S+/dbname=$db/;
    }
    system("timeout 60 '$ENV{MI_ADMIN}' --driver $driver --params '$params' "
           . "migrate 2>/dev/null") == 0 or die "migrate failed";
    chmod 0666, $params if $driver eq 'sqlite3';
    return $params;
}

sub drop_database {
    my ($params) = @_;
    return if ($ENV{MI_DB_DRIVER} // '') eq 'sqlite3';
    # FORCE: PgBouncer may still hold server connections to it.
    db_rows("DROP DATABASE " . ($params =~ /dbname=(\S+)/)[0]
            . " WITH (FORCE)");
}

sub run_client {
    my (@cmd) = @_;
    my $err = Symbol::gensym;
    my $pid = IPC::Open3::open3(my $in, my $out, $err, @cmd);
    close $in;
    my $stdout = do { local $/; <$out> } // '';
    my $stderr = do { local $/; <$err> } // '';
    waitpid $pid, 0;
    die "$cmd[0] failed ($?): $stderr" if $?;
    return $stdout;
}

# db_rows(SQL): the rows SQL returns, each an array of its columns (text;
# NULL as ''); dies when the client fails, so that no check can pass on a
# query that did not run.
sub db_rows {
    my ($sql) = @_;
    my $out;
    if (($ENV{MI_DB_DRIVER} // '') eq 'sqlite3') {
        $out = run_client('sqlite3', '-batch', '-noheader', '-separator', "\t",
                          '-cmd', '.timeout 5000', $ENV{MI_DB_PARAMS}, $sql);
    }
    elsif (($ENV{MI_DB_DRIVER} // '') eq 'pgsql') {
        $out = run_client('psql', '-X', '-q', '-A', '-t', '-F', "\t",
                          '-v', 'ON_ERROR_STOP=1', pg_args(), '-c', $sql);
    }
    else {
        die "MI_DB_DRIVER is not set";
    }
    return map { [ split /\t/, $_, -1 ] } split /\n/, $out;
}

# hold_write_lock(TABLE, ...): a session of another process that holds
# the write lock: the sqlite3 shell in an open transaction (the whole
# database), or psql holding the TABLEs (suppliers by default) in ACCESS
# EXCLUSIVE mode, once it is granted.
sub hold_write_lock {
    my @tables = @_ ? @_ : ('suppliers');
    my $sqlite = ($ENV{MI_DB_DRIVER} // '') eq 'sqlite3';
    my $cmd = $sqlite ? "sqlite3 '$ENV{MI_DB_PARAMS}'"
                      : "psql -q '$ENV{MI_DB_PARAMS}'";
    open(my $session, '|-', "$cmd >/dev/null") or die "$cmd: $!";
    $session->autoflush(1);
    if ($sqlite) {
        # Waits its turn if the server writes at that moment.
        print $session ".timeout 5000\nBEGIN IMMEDIATE;\n";
        Time::HiRes::sleep(0.5);
        return $session;
    }
    print $session "BEGIN;\nLOCK TABLE " . join(', ', @tables)
                 . " IN ACCESS EXCLUSIVE MODE;\n";
    for (1 .. 100) {
        my ($n) = db_rows('SELECT count(*) FROM pg_locks l JOIN pg_class c '
            . "ON c.oid = l.relation WHERE c.relname = '$tables[0]' "
            . "AND l.mode = 'AccessExclusiveLock' AND l.granted");
        return $session if $n->[0] > 0;
        Time::HiRes::sleep(0.1);
    }
    die "the lock was never taken";
}

sub release_write_lock {
    my ($session) = @_;
    print $session "COMMIT;\n";
    close $session;
}

# db_dump(): every byte the database holds, as text: SQLite's files (the
# main file and its write-ahead log, raw: freed pages included), or
# PostgreSQL's pg_dump of the suite's database.
sub db_dump {
    if (($ENV{MI_DB_DRIVER} // '') eq 'sqlite3') {
        my $all = '';
        for my $f ($ENV{MI_DB_PARAMS}, "$ENV{MI_DB_PARAMS}-wal") {
            next unless -e $f;
            open my $fh, '<:raw', $f or die "$f: $!";
            local $/;
            $all .= <$fh>;
        }
        die "no database file $ENV{MI_DB_PARAMS}" unless length $all;
        return $all;
    }
    return run_client('pg_dump', '--no-owner', pg_args());
}

1;
