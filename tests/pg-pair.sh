#!/usr/bin/env bash
# A PostgreSQL primary + streaming replica of their own, for the failover drill (Test-DatabaseFailover promotes the
# replica, which the shared test servers must never see), on free loopback ports.
#   tests/pg-pair.sh start DIR            start the pair; writes DIR/pair.env (mode 600): PAIR_PRIMARY_URL, PAIR_REPLICA_URL, ...
#   tests/pg-pair.sh rebuild-replica DIR  after a failover: the old replica is thrown away and cloned again from the
#                                         old primary (pg_basebackup), whose fence is lifted: the pair is as it was
#   tests/pg-pair.sh stop DIR             stop both and remove DIR (under /tmp only)
# What a Fly Postgres cluster does around a killed primary machine, for the Fly drill's tests:
#   tests/pg-pair.sh kill-primary DIR [MODE] the primary dies at once (pg_ctl stop -m immediate: no shutdown checkpoint,
#                                           WAL not yet sent is lost); MODE fast lets it send its WAL first
#   tests/pg-pair.sh promote-replica DIR    the replica is promoted, as repmgr does (pg_ctl promote)
#   tests/pg-pair.sh start-primary DIR      the old primary starts again, as Fly's restart policy does
#   tests/pg-pair.sh disconnect-replica DIR the replica stops receiving WAL (primary_conninfo cleared): what the primary
#                                           writes after that is lost when it dies
# The login "drill" owns database "drill" and may promote (EXECUTE on pg_promote), end sessions (pg_signal_backend) and
# see the WAL receiver (pg_read_all_stats), which is what the drill needs without superuser. Its password is in pair.env only, never on a command line.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "pg-pair.sh: $*" >&2; exit 1; }
as_root() { [ "$(id -u)" = 0 ]; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

bin=$(pg_bin)
[ -n "$bin" ] || die "PostgreSQL binaries not found under /usr/lib/postgresql"
as_pg=()
if as_root; then as_pg=(runuser -u postgres --); fi

start_replica() { # dir
  local d=$1
  rm -rf "$d/replica"
  "${as_pg[@]}" "$bin/pg_basebackup" -h "$d/sock" -p "$PRIMARY_PORT" -U postgres -D "$d/replica" -R -X stream -c fast >"$d/basebackup.log" 2>&1 \
    || die "pg_basebackup failed: $(tail -5 "$d/basebackup.log")"
  echo "port = $REPLICA_PORT" >> "$d/replica/postgresql.conf"
  "${as_pg[@]}" "$bin/pg_ctl" -D "$d/replica" -l "$d/replica.log" -w -t 30 start >/dev/null || die "replica did not start: $(tail -5 "$d/replica.log")"
}

start() {
  local d=${1:?usage: pg-pair.sh start DIR}
  mkdir -p "$d/sock"
  d=$(cd "$d" && pwd)
  chmod 755 "$d"
  as_root && chown -R postgres:postgres "$d"
  PRIMARY_PORT=$(free_port); REPLICA_PORT=$(free_port)
  local password
  password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
  "${as_pg[@]}" "$bin/initdb" -D "$d/primary" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$d/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$d/initdb.log")"
  cat >> "$d/primary/postgresql.conf" <<CONF
port = $PRIMARY_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$d/sock'
wal_level = replica
max_wal_senders = 5
fsync = off
full_page_writes = off
password_encryption = 'scram-sha-256'
logging_collector = off
CONF
  cat > "$d/primary/pg_hba.conf" <<HBA
local all all trust
local replication postgres trust
host all all 127.0.0.1/32 scram-sha-256
HBA
  "${as_pg[@]}" "$bin/pg_ctl" -D "$d/primary" -l "$d/primary.log" -w -t 30 start >/dev/null || die "primary did not start: $(tail -5 "$d/primary.log")"
  "${as_pg[@]}" "$bin/psql" -h "$d/sock" -p "$PRIMARY_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q -f - >/dev/null <<SQL
CREATE ROLE drill LOGIN PASSWORD '$password';
CREATE DATABASE drill OWNER drill;
GRANT pg_signal_backend, pg_read_all_stats TO drill;
\c drill
-- Function privileges live in each database's catalog.
GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO drill;
SET ROLE drill;
CREATE TABLE orders (id bigserial PRIMARY KEY, total_cents integer NOT NULL);
INSERT INTO orders (total_cents) SELECT g FROM generate_series(1, 100) g;
SQL
  start_replica "$d"
  umask 077
  cat > "$d/pair.env" <<ENV
export PAIR_PRIMARY_URL='postgres://drill:$password@127.0.0.1:$PRIMARY_PORT/drill?sslmode=disable'
export PAIR_REPLICA_URL='postgres://drill:$password@127.0.0.1:$REPLICA_PORT/drill?sslmode=disable'
export PAIR_PRIMARY_PORT='$PRIMARY_PORT'
export PAIR_REPLICA_PORT='$REPLICA_PORT'
export PAIR_DIR='$d'
ENV
  echo "$d/pair.env"
}

rebuild_replica() {
  local d=${1:?usage: pg-pair.sh rebuild-replica DIR}
  # shellcheck disable=SC1091
  source "$d/pair.env"
  PRIMARY_PORT=$PAIR_PRIMARY_PORT; REPLICA_PORT=$PAIR_REPLICA_PORT
  [ -f "$d/replica/postmaster.pid" ] && "${as_pg[@]}" "$bin/pg_ctl" -D "$d/replica" -m fast -w -t 20 stop >/dev/null 2>&1 || true
  # The drill fenced the old primary's database read-only; the pair goes back to the way it was.
  "${as_pg[@]}" "$bin/psql" -h "$d/sock" -p "$PRIMARY_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q -c "ALTER DATABASE drill RESET default_transaction_read_only" >/dev/null
  start_replica "$d"
}

ctl() { # dir, server, pg_ctl arguments...
  local d=$1 c=$2; shift 2
  "${as_pg[@]}" "$bin/pg_ctl" -D "$d/$c" -l "$d/$c.log" "$@" >/dev/null
}

disconnect_replica() {
  local d=${1:?usage: pg-pair.sh disconnect-replica DIR}
  # shellcheck disable=SC1091
  source "$d/pair.env"
  "${as_pg[@]}" "$bin/psql" -h "$d/sock" -p "$PAIR_REPLICA_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "ALTER SYSTEM SET primary_conninfo = ''" -c "SELECT pg_reload_conf()" >/dev/null
  # The WAL receiver ends once the new setting is read.
  for _ in $(seq 1 100); do
    [ "$("${as_pg[@]}" "$bin/psql" -h "$d/sock" -p "$PAIR_REPLICA_PORT" -U postgres -d postgres -Atc "SELECT count(*) FROM pg_stat_wal_receiver")" = 0 ] && return 0
    sleep 0.1
  done
  die "the replica's WAL receiver did not stop"
}

stop() {
  local d=${1:?usage: pg-pair.sh stop DIR}
  [ -d "$d" ] || return 0
  for c in replica primary; do
    [ -f "$d/$c/postmaster.pid" ] && "${as_pg[@]}" "$bin/pg_ctl" -D "$d/$c" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
  done
  case "$d" in /tmp/*) rm -rf "$d" ;; esac
}

case "${1:-}" in
  start) start "${2:-$(mktemp -d /tmp/opsrunbook-pair.XXXXXX)}" ;;
  rebuild-replica) rebuild_replica "${2:-}" ;;
  stop) stop "${2:-}" ;;
  kill-primary) ctl "${2:?DIR}" primary -m "${3:-immediate}" -w -t 20 stop ;;
  promote-replica) ctl "${2:?DIR}" replica -w -t 30 promote ;;
  start-primary) ctl "${2:?DIR}" primary -w -t 30 start ;;
  disconnect-replica) disconnect_replica "${2:-}" ;;
  *) echo "usage: $0 start [DIR] | rebuild-replica DIR | stop DIR | kill-primary DIR | promote-replica DIR | start-primary DIR | disconnect-replica DIR" >&2; exit 2 ;;
esac
