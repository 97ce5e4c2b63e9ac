# build/lib.sh: what build/dev and build/bench share: packages, the build,
# httpd's paths, and a throwaway PostgreSQL. Sourced, with $top set.

export DEBIAN_FRONTEND=noninteractive

build_packages=(apache2 apache2-dev libaprutil1-dbd-sqlite3
    libaprutil1-dbd-pgsql libjansson-dev libssl-dev libcurl4-openssl-dev pkg-config autoconf
    automake libtool make gcc sqlite3 curl)
test_packages=(postgresql libapache2-mod-perl2 libwww-perl nghttp2-client
    libio-socket-ssl-perl openssl redis-server pgbouncer)
# build/dev package (and the package pass of build/dev test): dh and
# dh_apache2 (the latter comes with apache2-dev), lintian.
package_packages=(debhelper dpkg-dev fakeroot lintian)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing Debian packages; as root run:
    apt-get update && apt-get install -y ${missing[*]}"
    fi
    say "installing ${missing[*]}"
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# promtool, which t/metrics.t checks the metrics page with, exported as
# MI_PROMTOOL. Debian ships it only in the prometheus package: 19 MB to
# fetch, 96 MB installed with its web UI's JavaScript, and its postinst
# starts a Prometheus server. So the package is downloaded (apt-get
# download), never installed, and promtool alone (48 MB) is taken out of
# it into MI_TOOLS_DIR, once. A promtool on the PATH is used as it is.
ensure_promtool() {
    local dir=${MI_TOOLS_DIR:-/var/cache/mod_integration-tools} tmp
    if command -v promtool >/dev/null 2>&1; then
        MI_PROMTOOL=$(command -v promtool)
    elif [ -x "$dir/promtool" ]; then
        MI_PROMTOOL=$dir/promtool
    else
        [ "$(id -u)" -eq 0 ] \
            || die "no promtool: put one on the PATH, or run as root"
        say "fetching promtool (from Debian's prometheus package, which is not installed)"
        tmp=$(mktemp -d)
        (cd "$tmp" && apt-get download -q prometheus >/dev/null 2>&1) \
            || { apt-get update -q >/dev/null
                 (cd "$tmp" && apt-get download -q prometheus >/dev/null 2>&1); } \
            || die "apt-get download prometheus failed"
        mkdir -p "$dir"
        dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb \
            | tar -xO ./usr/bin/promtool > "$dir/promtool.new"
        chmod 755 "$dir/promtool.new"
        mv "$dir/promtool.new" "$dir/promtool"
        rm -rf "$tmp"
        MI_PROMTOOL=$dir/promtool
    fi
    export MI_PROMTOOL
}

# The in-tree build; leaves the shell in $top.
build() {
    cd "$top"
    build_tree .
}

# build_tree DIR [CONFIGURE_ARGS...]: bootstraps, configures (with the
# arguments, the first time) and builds the tree in DIR.
build_tree() {
    local dir=$1 where=""; shift
    [ "$dir" = . ] || where=" in $dir"
    cd "$dir" || return
    if [ ! -x configure ] || [ configure.ac -nt configure ] \
       || [ Makefile.am -nt configure ]; then
        say "bootstrapping autotools$where"
        autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
    fi
    if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
        say "configuring$where${1:+ ($*)}"
        ./configure -q "$@"
    fi
    say "building$where"
    make -s -j"$(nproc)" >/dev/null
}

# httpd's own modules directory and binary, from apxs.
httpd_modules() { apxs -q LIBEXECDIR; }
httpd_bin() { echo "$(apxs -q SBINDIR)/$(apxs -q TARGET)"; }

# The user httpd children run as when started by root.
httpd_user() {
    if [ "$(id -u)" -eq 0 ]; then
        id -u www-data >/dev/null 2>&1 && echo www-data || echo nobody
    else
        id -un
    fi
}

# ---- a throwaway PostgreSQL, as the postgres user, on loopback ----------
# pg_start DIR PORT [DB]: initdb in DIR/data, start, and create DB;
# pg_createdb DB creates another; pg_stop stops the server.
pg_bin=""
pg_dir=""
pg_port=""

# A port from $1 upwards that nothing listens on. Callers start below the
# ephemeral range (32768-60999 here), where an outgoing connection may hold
# the port.
free_port() {
    local port=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
    done
    echo "$port"
}

pg_start() {
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    pg_dir=$1
    pg_port=$(free_port "$2")
    mkdir -p "$pg_dir"
    chown postgres "$pg_dir"
    say "starting a throwaway PostgreSQL on 127.0.0.1:$pg_port"
    runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -A trust \
        -U postgres >/dev/null
    pg_ctl start -w -l "$pg_dir/log"
    [ -z "${3:-}" ] || pg_createdb "$3"
}

pg_createdb() {
    runuser -u postgres -- "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" \
        -U postgres "$1"
}

pg_ctl() {
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" \
        -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1" "$@" \
        >/dev/null
}

pg_stop() {
    [ -n "$pg_bin" ] && [ -d "$pg_dir/data" ] && pg_ctl stop -m immediate \
        2>/dev/null || true
}

# ---- a throwaway Redis, on loopback, for the shared rate limit ----------
# redis_start DIR PORT: redis-server on 127.0.0.1, on PORT or the first
# free port above it, with nothing saved to disk and its files in DIR;
# exports its address (MI_REDIS_URL) and pid (MI_REDIS_PID, which
# t/ratelimit_redis.t stops and continues). redis_stop stops it.
redis_dir=""

redis_start() {
    local port
    redis_dir=$1
    port=$(free_port "$2")
    mkdir -p "$redis_dir"
    say "starting a throwaway Redis on 127.0.0.1:$port"
    redis-server --bind 127.0.0.1 --port "$port" --save '' \
        --appendonly no --daemonize yes --dir "$redis_dir" \
        --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/log" \
        </dev/null >/dev/null
    local i
    for i in $(seq 50); do
        [ "$(timeout 2 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" \
            = PONG ] && [ -s "$redis_dir/redis.pid" ] && break
        [ "$i" -eq 50 ] && die "Redis did not start (see $redis_dir/log)"
        sleep 0.2
    done
    export MI_REDIS_URL=redis://127.0.0.1:$port
    MI_REDIS_PID=$(cat "$redis_dir/redis.pid")
    export MI_REDIS_PID
}

# Continued first: a test may have left it stopped (kill -STOP).
redis_stop() {
    local pid i
    [ -n "$redis_dir" ] && [ -s "$redis_dir/redis.pid" ] || return 0
    pid=$(cat "$redis_dir/redis.pid")
    kill -CONT "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# ---- a throwaway PgBouncer in front of it, transaction pooling ----------
# pgbouncer_start DIR PORT: PgBouncer as the postgres user on loopback, from
# PORT upwards, in front of the throwaway PostgreSQL (any database name,
# trust as PostgreSQL's): in transaction pooling mode, each transaction may
# run on another server connection, so no session state lasts between two.
# Fewer server connections than clients, so that they do change hands.
# pgbouncer_stop stops it.
pgb_dir=""
pgb_port=""

pgbouncer_start() {
    pgb_dir=$1
    pgb_port=$(free_port "$2")
    mkdir -p "$pgb_dir"
    echo '"postgres" ""' > "$pgb_dir/userlist.txt"
    cat > "$pgb_dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pg_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $pgb_port
unix_socket_dir =
auth_type = trust
auth_file = $pgb_dir/userlist.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
logfile = $pgb_dir/pgbouncer.log
pidfile = $pgb_dir/pgbouncer.pid
INI
    chown -R postgres "$pgb_dir"
    say "starting a throwaway PgBouncer on 127.0.0.1:$pgb_port"
    runuser -u postgres -- pgbouncer -d -q "$pgb_dir/pgbouncer.ini" \
        || die "PgBouncer did not start (see $pgb_dir/pgbouncer.log)"
}

pgbouncer_stop() {
    [ -n "$pgb_dir" ] && [ -s "$pgb_dir/pgbouncer.pid" ] \
        && kill "$(cat "$pgb_dir/pgbouncer.pid")" 2>/dev/null || true
}
