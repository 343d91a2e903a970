#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster owned by the unprivileged `postgres` user, on 127.0.0.1:$PGPORT,
# and prints the DATABASE_URL of a superuser `portal` role for it. Used by .ci/run and by developers.
#   scripts/local-postgres.sh start [DIR]   (default DIR /tmp/portal-pg)
#   scripts/local-postgres.sh stop  [DIR]
#   scripts/local-postgres.sh crash [DIR]   (pg_ctl -m immediate: no shutdown checkpoint, as in a crash)
set -euo pipefail
cmd=${1:-start}
dir=${2:-/tmp/portal-pg}
port=${PGPORT:-55432}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
      as_pg "$bindir/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_pg "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_pg "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
        -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    fi
    "$bindir/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'portal') then
    create role portal login superuser password 'portal';
  end if;
end $$;
select 'create database portal owner portal' where not exists (select 1 from pg_database where datname = 'portal')\gexec
SQL
    echo "postgres://portal:portal@127.0.0.1:$port/portal"
    ;;
  stop)
    as_pg "$bindir/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
    ;;
  crash)
    as_pg "$bindir/pg_ctl" -D "$dir" -m immediate stop >/dev/null
    ;;
  *) echo "usage: $0 start|stop|crash [DIR]" >&2; exit 2 ;;
esac
