#!/usr/bin/env bash
# A throwaway PostgreSQL server for the storage/evaluation test suite (needs only Debian's `postgresql` package).
#
#   eval "$(.ci/postgres.sh start)"   # exports SIMA_TEST_POSTGRES_URL and SIMA_PG_DIR
#   pytest tests/evaluation tests/storage -q
#   .ci/postgres.sh stop              # stops the server in $SIMA_PG_DIR and deletes its files
#
# The cluster lives in a fresh temporary directory, listens on 127.0.0.1 on a free port, trusts local connections
# (it holds test data only) and runs with fsync off. As root, the server runs as the `postgres` user.
# Only the `export` lines go to stdout; progress goes to stderr.
set -euo pipefail

bin_dir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$d" ]; then
        echo "postgres.sh: no PostgreSQL found; run: apt-get install -y postgresql" >&2
        exit 1
    fi
    echo "$d"
}

as_owner() {  # run a server command as the cluster's owner
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
        2>/dev/null || echo 5432
}

start() {
    local bin dir port
    bin=$(bin_dir)
    dir=$(mktemp -d /tmp/sima-pg.XXXXXX)
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
    port=$(free_port)
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >&2
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off" start >&2
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres sima_test >&2
    echo "postgres.sh: server in $dir on 127.0.0.1:$port" >&2
    echo "export SIMA_PG_DIR=$dir"
    echo "export SIMA_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$port/sima_test"
}

stop() {
    local dir=${SIMA_PG_DIR:?set SIMA_PG_DIR (printed by start)}
    as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
