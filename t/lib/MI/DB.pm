package MI::DB;
# The suite's database read and written straight, by the database's own
# client (sqlite3 on the file, psql with the suite's parameters): for what
# the API does not show (what is stored at rest, a stored row made older).
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use IPC::Open3 ();
use Symbol ();

our @EXPORT = qw(db_rows db_dump pg_args);

# The psql/pg_dump connection options of the suite's PostgreSQL
# parameters (or of PARAMS).
sub pg_args {
    my ($params) = @_;
    my %p = map { split /=/, $_, 2 } split ' ', $params // $ENV{MI_DB_PARAMS};
    return ('-h', $p{host}, '-p', $p{port}, '-U', $p{user}, '-d', $p{dbname});
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
