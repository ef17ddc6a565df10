#!/usr/bin/env bash
# Starts and stops the real servers the OpsRunbook tests and the sandbox demo run against, on 127.0.0.1 and free
# ports, in one folder:
#   PostgreSQL 15 primary (pg_stat_statements, scram-sha-256, TLS) + a streaming replica
#   Redis (a password for the default user, an ACL user, a TLS port, maxmemory set)
#   a Redis replica of it, and one whose primary is unreachable (master_link_status down)
#   dnsmasq answering for opsrunbook.test (NXDOMAIN for unknown names there, REFUSED elsewhere)
#   s3rver (S3 emulator) with one bucket
#   a small app with the health, metrics and JWKS endpoints of runbook 002
# It installs what is missing (apt-get, npm) and writes every setting to DIR/servers.env (mode 600).
# Passwords are random per start and never printed nor passed on a command line.
#
#   tests/servers.sh start [DIR]   start everything (DIR defaults to a new folder under /tmp); prints DIR/servers.env's path
#   tests/servers.sh stop DIR      stop everything started in DIR and remove DIR
#   tests/servers.sh install       only install prerequisites
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '[servers] %s\n' "$*" >&2; }
die() { printf '[servers] error: %s\n' "$*" >&2; exit 1; }

as_root() { [ "$(id -u)" = 0 ]; }

pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
}

install_prereqs() {
  local apt=()
  [ -n "$(pg_bin)" ] || apt+=(postgresql postgresql-contrib)
  command -v redis-server >/dev/null || apt+=(redis-server)
  command -v redis-cli >/dev/null || apt+=(redis-tools)
  command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || apt+=(dnsmasq-base)
  command -v openssl >/dev/null || apt+=(openssl)
  command -v node >/dev/null || apt+=(nodejs npm)
  command -v docker >/dev/null || apt+=(docker.io)   # the docker CLI, against the fake engine (no daemon runs in tests)
  # Real alembic (Debian's, with psycopg2) writes the migration table Get-DatabaseMigration reads.
  /usr/bin/python3 -c 'import alembic, psycopg2' 2>/dev/null || apt+=(python3-alembic python3-psycopg2)
  if [ ${#apt[@]} -gt 0 ]; then
    as_root || die "missing ${apt[*]}; install them (apt-get install -y ${apt[*]}) or run as root"
    log "installing ${apt[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt[@]}" >/dev/null
  fi
  # Debian's postgresql package may start a cluster of its own on 5432; ours never uses that port.
  if [ ! -f "$here/servers/node_modules/s3rver/bin/s3rver.js" ] || [ ! -f "$here/servers/node_modules/@action-validator/cli/cli.mjs" ] || [ ! -f "$here/servers/node_modules/knex/bin/cli.js" ]; then
    log "installing s3rver, the workflow validator and knex (npm)"
    (cd "$here/servers" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

random_secret() { openssl rand -hex 16; }

wait_port() { # host port seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

make_certs() { # dir
  local d=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=OpsRunbook Test CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > "$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
    -extfile "$d/server.ext" -out "$d/server.crt" >/dev/null 2>&1
  chmod 600 "$d/server.key" "$d/ca.key"
}

start_postgres() { # dir
  local d=$1 bin as_pg=()
  bin=$(pg_bin)
  [ -n "$bin" ] || die "PostgreSQL binaries not found under /usr/lib/postgresql"
  if as_root; then as_pg=(runuser -u postgres --); fi
  mkdir -p "$d/pg/sock"
  cp "$d/certs/server.crt" "$d/certs/server.key" "$d/certs/ca.crt" "$d/pg/"
  as_root && chown -R postgres:postgres "$d/pg" && chmod 755 "$d"
  PG_PORT=$(free_port); PG_REPLICA_PORT=$(free_port)
  "${as_pg[@]}" "$bin/initdb" -D "$d/pg/primary" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$d/pg/initdb.log" 2>&1 \
    || die "initdb failed: $(tail -5 "$d/pg/initdb.log")"
  cat >> "$d/pg/primary/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$d/pg/sock'
shared_preload_libraries = 'pg_stat_statements'
wal_level = replica
max_wal_senders = 5
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = 'scram-sha-256'
ssl = on
ssl_cert_file = '$d/pg/server.crt'
ssl_key_file = '$d/pg/server.key'
ssl_ca_file = '$d/pg/ca.crt'
logging_collector = off
log_connections = on
# Every statement, tagged with its application_name: tests prove from this log that -WhatIf sent nothing mutating.
log_statement = 'all'
log_line_prefix = '%m [%p] app=%a '
CONF
  cat > "$d/pg/primary/pg_hba.conf" <<HBA
local all all trust
host replication postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
HBA
  "${as_pg[@]}" "$bin/pg_ctl" -D "$d/pg/primary" -l "$d/pg/primary.log" -w -t 30 start >/dev/null \
    || die "PostgreSQL primary did not start: $(tail -5 "$d/pg/primary.log")"
  # The password goes through stdin, never a command line.
  "${as_pg[@]}" "$bin/psql" -h "$d/pg/sock" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q -f - >/dev/null <<SQL
SET log_statement = 'none';
CREATE ROLE opsrunbook LOGIN PASSWORD '$PG_PASSWORD';
CREATE DATABASE opsrunbook OWNER opsrunbook;
\c opsrunbook
CREATE EXTENSION pg_stat_statements;
GRANT pg_read_all_stats, pg_signal_backend TO opsrunbook;
-- Restore checks create and drop scratch databases.
ALTER ROLE opsrunbook CREATEDB;
-- Test-DatabaseFailover's plan (the help examples run it with -WhatIf here; the drills themselves run on tests/pg-pair.sh).
GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO opsrunbook;
-- The sandbox's application login, whose password Invoke-SecretRotation rotates (sandbox/database in the fake Secrets Manager).
CREATE ROLE sandbox_app LOGIN PASSWORD '$SANDBOX_DB_PASSWORD';
-- A small shop, so that the sandbox's backups, restores, table sizes and row counts have something to show.
CREATE SCHEMA shop AUTHORIZATION opsrunbook;
SET ROLE opsrunbook;
CREATE TABLE shop.customers (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE shop.orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES shop.customers, total_cents integer NOT NULL,
                          created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO shop.customers (email) SELECT 'customer' || g || '@example.test' FROM generate_series(1, 500) g;
INSERT INTO shop.orders (customer_id, total_cents) SELECT 1 + g % 500, (g * 37) % 10000 FROM generate_series(1, 5000) g;
ANALYZE shop.customers, shop.orders;
-- The shop's alembic history (examples/migrations/alembic): customers and orders applied, "add order status" pending.
CREATE TABLE public.alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
INSERT INTO public.alembic_version VALUES ('52732b96f95f');
RESET ROLE;
SQL
  "${as_pg[@]}" "$bin/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$d/pg/replica" -R -X stream -c fast >"$d/pg/basebackup.log" 2>&1 \
    || die "pg_basebackup failed: $(tail -5 "$d/pg/basebackup.log")"
  echo "port = $PG_REPLICA_PORT" >> "$d/pg/replica/postgresql.conf"
  "${as_pg[@]}" "$bin/pg_ctl" -D "$d/pg/replica" -l "$d/pg/replica.log" -w -t 30 start >/dev/null \
    || die "PostgreSQL replica did not start: $(tail -5 "$d/pg/replica.log")"
  PG_BIN=$bin
}

start_redis() { # dir
  local d=$1
  mkdir -p "$d/redis"
  REDIS_PORT=$(free_port); REDIS_TLS_PORT=$(free_port)
  # A config file, so no password appears in the process list.
  cat > "$d/redis/redis.conf" <<CONF
port $REDIS_PORT
bind 127.0.0.1
tls-port $REDIS_TLS_PORT
tls-cert-file $d/certs/server.crt
tls-key-file $d/certs/server.key
tls-ca-cert-file $d/certs/ca.crt
tls-auth-clients no
save ""
appendonly no
daemonize yes
dir $d/redis
pidfile $d/redis/redis.pid
logfile $d/redis/redis.log
maxmemory 64mb
maxmemory-policy allkeys-lru
repl-diskless-sync-delay 0
requirepass $REDIS_DEFAULT_PASSWORD
user opsrunbook on >$REDIS_PASSWORD ~* &* +@all
user sandbox_app on >$SANDBOX_REDIS_PASSWORD ~* &* +@all
CONF
  chmod 600 "$d/redis/redis.conf"
  redis-server "$d/redis/redis.conf" || die "redis-server did not start: $(tail -5 "$d/redis/redis.log" 2>/dev/null)"
  wait_port 127.0.0.1 "$REDIS_PORT" 10 || die "Redis is not listening on $REDIS_PORT: $(tail -5 "$d/redis/redis.log")"
  REDIS_REPLICA_PORT=$(free_port); REDIS_BROKEN_PORT=$(free_port)
  redis_replica "$d" replica "$REDIS_REPLICA_PORT" "$REDIS_PORT"
  # Replicates from a port where nothing listens: its link stays down.
  redis_replica "$d" broken "$REDIS_BROKEN_PORT" "$(free_port)"
}

redis_replica() { # dir name port primary_port
  local d=$1 name=$2 port=$3 primary=$4
  mkdir -p "$d/redis-$name"
  cat > "$d/redis-$name/redis.conf" <<CONF
port $port
bind 127.0.0.1
save ""
appendonly no
daemonize yes
dir $d/redis-$name
pidfile $d/redis-$name/redis.pid
logfile $d/redis-$name/redis.log
replicaof 127.0.0.1 $primary
masterauth $REDIS_DEFAULT_PASSWORD
requirepass $REDIS_DEFAULT_PASSWORD
user opsrunbook on >$REDIS_PASSWORD ~* &* +@all
CONF
  chmod 600 "$d/redis-$name/redis.conf"
  redis-server "$d/redis-$name/redis.conf" || die "redis $name did not start"
  wait_port 127.0.0.1 "$port" 10 || die "redis $name is not listening on $port: $(tail -5 "$d/redis-$name/redis.log")"
}

start_dns() { # dir
  local d=$1 dnsmasq
  dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
  # A TXT record of 20 strings x 250 characters (5 KB): more than a UDP answer carries, so a client must retry over TCP.
  local big_txt
  big_txt=$(for i in $(seq -w 1 20); do printf '%s' "$i"; head -c 248 /dev/zero | tr '\0' 'x'; [ "$i" = 20 ] || printf ','; done)
  DNS_PORT=$(free_port)
  "$dnsmasq" --port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts --user="$(id -un)" \
    --pid-file="$d/dnsmasq.pid" --local=/opsrunbook.test/ --address=/app.opsrunbook.test/127.0.0.1 \
    --host-record=db.opsrunbook.test,127.0.0.2 --txt-record=opsrunbook.test,"v=opsrunbook" \
    --mx-host=opsrunbook.test,mail.opsrunbook.test,10 --cname=www.opsrunbook.test,app.opsrunbook.test \
    --txt-record=big.opsrunbook.test,"$big_txt" \
    --log-facility="$d/dnsmasq.log" || die "dnsmasq did not start: $(tail -5 "$d/dnsmasq.log" 2>/dev/null)"
}

start_s3rver() { # dir
  local d=$1
  mkdir -p "$d/s3"
  S3_PORT=$(free_port)
  NODE_OPTIONS=--openssl-legacy-provider nohup node "$here/servers/node_modules/s3rver/bin/s3rver.js" -d "$d/s3" -a 127.0.0.1 -p "$S3_PORT" \
    --silent --configure-bucket opsrunbook-backups >"$d/s3.log" 2>&1 &
  echo $! > "$d/s3.pid"
  wait_port 127.0.0.1 "$S3_PORT" 20 || die "s3rver is not listening: $(tail -5 "$d/s3.log")"
}

start_fakecloud() { # dir — the tests' Secrets Manager fake as a process, when it has been built (dotnet build does)
  local d=$1 dll=""
  for c in Debug Release; do
    [ -f "$here/OpsRunbook.FakeCloud/bin/$c/net10.0/OpsRunbook.FakeCloud.dll" ] && dll="$here/OpsRunbook.FakeCloud/bin/$c/net10.0/OpsRunbook.FakeCloud.dll" && break
  done
  if [ -z "$dll" ]; then
    log "fake Secrets Manager not built (dotnet build OpsRunbook.sln): secret rotation is not available in this sandbox"
    SM_PORT=""; FLY_PORT=""; STS_PORT=""; FLY_TOKEN=""; NOTIFY_PORT=""; CS3_PORT=""; RAILWAY_PORT=""; RAILWAY_TOKEN=""; KUBE_PORT=""; DOCKER_PORT=""; TLS60=""; TLS15=""; TLS5=""; TLSWRONG=""; TLSSELF=""
    return 0
  fi
  SM_PORT=$(free_port); FLY_PORT=$(free_port); STS_PORT=$(free_port); NOTIFY_PORT=$(free_port); CS3_PORT=$(free_port); FLY_TOKEN="fm2_$(random_secret)"
  RAILWAY_PORT=$(free_port); RAILWAY_TOKEN="$(random_secret)"; KUBE_PORT=$(free_port); DOCKER_PORT=$(free_port)
  TLS60=$(free_port); TLS15=$(free_port); TLS5=$(free_port); TLSWRONG=$(free_port); TLSSELF=$(free_port)
  # Seed values in a private file (mode 600), never on a command line.
  (umask 077; cat > "$d/secrets-seed.json" <<JSON
{ "accessKey": "S3RVER", "secretKey": "S3RVER", "secrets": {
  "sandbox/database": "postgres://sandbox_app:$SANDBOX_DB_PASSWORD@127.0.0.1:$PG_PORT/opsrunbook",
  "sandbox/redis": "redis://sandbox_app:$SANDBOX_REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0",
  "sandbox/jwt": "$(random_secret)$(random_secret)" },
  "fly": { "port": $FLY_PORT, "app": "sandbox-app", "token": "$FLY_TOKEN" }, "flyPostgres": { "app": "sandbox-db" }, "sts": { "port": $STS_PORT }, "notify": { "port": $NOTIFY_PORT }, "conditionalS3": { "port": $CS3_PORT },
  "railway": { "port": $RAILWAY_PORT, "token": "$RAILWAY_TOKEN" }, "kubernetes": { "port": $KUBE_PORT }, "docker": { "port": $DOCKER_PORT },
  "tls": { "caPath": "$d/certs/test-pki-ca.pem", "ports": { "days60": $TLS60, "days15": $TLS15, "days5": $TLS5, "wrongName": $TLSWRONG, "selfSigned": $TLSSELF } } }
JSON
  )
  nohup dotnet "$dll" "$SM_PORT" "$d/secrets-seed.json" >"$d/fakecloud.log" 2>&1 &
  echo $! > "$d/fakecloud.pid"
  wait_port 127.0.0.1 "$SM_PORT" 20 || die "fake Secrets Manager is not listening: $(tail -5 "$d/fakecloud.log")"
  wait_port 127.0.0.1 "$FLY_PORT" 20 || die "fake Fly.io is not listening: $(tail -5 "$d/fakecloud.log")"
  wait_port 127.0.0.1 "$STS_PORT" 20 || die "fake STS is not listening: $(tail -5 "$d/fakecloud.log")"
  wait_port 127.0.0.1 "$NOTIFY_PORT" 20 || die "fake Slack/Teams/PagerDuty is not listening: $(tail -5 "$d/fakecloud.log")"
  wait_port 127.0.0.1 "$CS3_PORT" 20 || die "fake conditional-write S3 is not listening: $(tail -5 "$d/fakecloud.log")"
  wait_port 127.0.0.1 "$RAILWAY_PORT" 20 || die "fake Railway is not listening: $(tail -5 "$d/fakecloud.log")"
  wait_port 127.0.0.1 "$KUBE_PORT" 20 || die "fake Kubernetes API server is not listening: $(tail -5 "$d/fakecloud.log")"
  wait_port 127.0.0.1 "$DOCKER_PORT" 20 || die "fake Docker engine is not listening: $(tail -5 "$d/fakecloud.log")"
  wait_port 127.0.0.1 "$TLSSELF" 20 || die "TLS test servers are not listening: $(tail -5 "$d/fakecloud.log")"
}

start_app() { # dir
  local d=$1
  APP_PORT=$(free_port)
  nohup node "$here/servers/sandbox-app.js" "$APP_PORT" >"$d/app.log" 2>&1 &
  echo $! > "$d/app.pid"
  wait_port 127.0.0.1 "$APP_PORT" 10 || die "sandbox app is not listening: $(tail -5 "$d/app.log")"
}

start() {
  local d=${1:-}
  install_prereqs
  if [ -z "$d" ]; then d=$(mktemp -d /tmp/opsrunbook-servers.XXXXXX); fi
  mkdir -p "$d/certs"
  d=$(cd "$d" && pwd)
  chmod 755 "$d"
  PG_PASSWORD=$(random_secret); REDIS_PASSWORD=$(random_secret); REDIS_DEFAULT_PASSWORD=$(random_secret)
  SANDBOX_DB_PASSWORD=$(random_secret); SANDBOX_REDIS_PASSWORD=$(random_secret)
  make_certs "$d/certs"
  chmod 644 "$d/certs/ca.crt" "$d/certs/server.crt"
  start_postgres "$d"
  start_redis "$d"
  start_dns "$d"
  start_s3rver "$d"
  start_app "$d"
  start_fakecloud "$d"
  umask 077
  cat > "$d/servers.env" <<ENV
export OPSRUNBOOK_SERVERS_DIR='$d'
export OPSRUNBOOK_PG_BIN='$PG_BIN'
export OPSRUNBOOK_PG_HOST='127.0.0.1'
export OPSRUNBOOK_PG_PORT='$PG_PORT'
export OPSRUNBOOK_PG_REPLICA_PORT='$PG_REPLICA_PORT'
export OPSRUNBOOK_PG_SOCKET='$d/pg/sock'
export OPSRUNBOOK_PG_USER='opsrunbook'
export OPSRUNBOOK_PG_PASSWORD='$PG_PASSWORD'
export OPSRUNBOOK_PG_DATABASE='opsrunbook'
export OPSRUNBOOK_DATABASE_URL='postgres://opsrunbook:$PG_PASSWORD@127.0.0.1:$PG_PORT/opsrunbook'
export OPSRUNBOOK_REPLICA_DATABASE_URL='postgres://opsrunbook:$PG_PASSWORD@127.0.0.1:$PG_REPLICA_PORT/opsrunbook'
export OPSRUNBOOK_REDIS_PORT='$REDIS_PORT'
export OPSRUNBOOK_REDIS_TLS_PORT='$REDIS_TLS_PORT'
export OPSRUNBOOK_REDIS_USER='opsrunbook'
export OPSRUNBOOK_REDIS_PASSWORD='$REDIS_PASSWORD'
export OPSRUNBOOK_REDIS_DEFAULT_PASSWORD='$REDIS_DEFAULT_PASSWORD'
export OPSRUNBOOK_REDIS_URL='redis://opsrunbook:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0'
export OPSRUNBOOK_REDIS_TLS_URL='rediss://opsrunbook:$REDIS_PASSWORD@localhost:$REDIS_TLS_PORT/0'
export OPSRUNBOOK_REDIS_REPLICA_PORT='$REDIS_REPLICA_PORT'
export OPSRUNBOOK_REDIS_REPLICA_URL='redis://opsrunbook:$REDIS_PASSWORD@127.0.0.1:$REDIS_REPLICA_PORT/0'
export OPSRUNBOOK_REDIS_BROKEN_REPLICA_URL='redis://opsrunbook:$REDIS_PASSWORD@127.0.0.1:$REDIS_BROKEN_PORT/0'
export OPSRUNBOOK_DNS_PORT='$DNS_PORT'
export OPSRUNBOOK_CA_CERT='$d/certs/ca.crt'
export OPSRUNBOOK_S3_ENDPOINT='http://127.0.0.1:$S3_PORT'
export OPSRUNBOOK_S3_BUCKET='opsrunbook-backups'
export OPSRUNBOOK_S3_ACCESS_KEY='S3RVER'
export OPSRUNBOOK_APP_PORT='$APP_PORT'
export OPSRUNBOOK_APP_URL='http://127.0.0.1:$APP_PORT'
export OPSRUNBOOK_SM_ENDPOINT='${SM_PORT:+http://127.0.0.1:$SM_PORT}'
export OPSRUNBOOK_STS_ENDPOINT='${STS_PORT:+http://127.0.0.1:$STS_PORT}'
export OPSRUNBOOK_FLY_API='${FLY_PORT:+http://127.0.0.1:$FLY_PORT}'
export OPSRUNBOOK_FLY_TOKEN='$FLY_TOKEN'
export OPSRUNBOOK_RAILWAY_API='${RAILWAY_PORT:+http://127.0.0.1:$RAILWAY_PORT/graphql/v2}'
export OPSRUNBOOK_RAILWAY_TOKEN='$RAILWAY_TOKEN'
export OPSRUNBOOK_TLS_CA='${TLS60:+$d/certs/test-pki-ca.pem}'
export OPSRUNBOOK_TLS_DAYS60='${TLS60:+https://localhost:$TLS60}'
export OPSRUNBOOK_TLS_DAYS15='${TLS15:+https://localhost:$TLS15}'
export OPSRUNBOOK_TLS_DAYS5='${TLS5:+https://localhost:$TLS5}'
export OPSRUNBOOK_TLS_WRONG_NAME='${TLSWRONG:+https://localhost:$TLSWRONG}'
export OPSRUNBOOK_TLS_SELF_SIGNED='${TLSSELF:+https://localhost:$TLSSELF}'
export OPSRUNBOOK_KUBE_SERVER='${KUBE_PORT:+http://127.0.0.1:$KUBE_PORT}'
export OPSRUNBOOK_DOCKER_HOST='${DOCKER_PORT:+tcp://127.0.0.1:$DOCKER_PORT}'
export OPSRUNBOOK_NOTIFY_URL='${NOTIFY_PORT:+http://127.0.0.1:$NOTIFY_PORT}'
export OPSRUNBOOK_CONDITIONAL_S3_ENDPOINT='${CS3_PORT:+http://127.0.0.1:$CS3_PORT}'
export OPSRUNBOOK_SLACK_WEBHOOK_URL='${NOTIFY_PORT:+http://127.0.0.1:$NOTIFY_PORT/slack/services/T0OPS/B0RUNBOOK/xoxsecretwebhookpart0123}'
export OPSRUNBOOK_TEAMS_WEBHOOK_URL='${NOTIFY_PORT:+http://127.0.0.1:$NOTIFY_PORT/teams/workflows/4f0c2a7e9b/triggers/manual/paths/invoke?sig=teamssecretsig0123}'
export OPSRUNBOOK_WEBHOOK_URL='${NOTIFY_PORT:+http://127.0.0.1:$NOTIFY_PORT/webhook/ops}'
export OPSRUNBOOK_WEBHOOK_SECRET='whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
export OPSRUNBOOK_PAGERDUTY_ENDPOINT='${NOTIFY_PORT:+http://127.0.0.1:$NOTIFY_PORT/pagerduty}'
export OPSRUNBOOK_PAGERDUTY_ROUTING_KEY='R0UT1NGKEY0123456789ABCDEFGHIJKL'
ENV
  log "PostgreSQL primary 127.0.0.1:$PG_PORT, replica 127.0.0.1:$PG_REPLICA_PORT (user opsrunbook, TLS on)"
  log "Redis 127.0.0.1:$REDIS_PORT, TLS $REDIS_TLS_PORT (ACL user opsrunbook), replica $REDIS_REPLICA_PORT, broken replica $REDIS_BROKEN_PORT"
  log "DNS (dnsmasq) 127.0.0.1:$DNS_PORT for opsrunbook.test"
  log "s3rver http://127.0.0.1:$S3_PORT (bucket opsrunbook-backups), app http://127.0.0.1:$APP_PORT"
  [ -n "$SM_PORT" ] && log "fake Secrets Manager http://127.0.0.1:$SM_PORT (sandbox/database, sandbox/redis, sandbox/jwt), fake Fly.io http://127.0.0.1:$FLY_PORT (apps sandbox-app, sandbox-db)"
  [ -n "$NOTIFY_PORT" ] && log "fake Slack, Teams, PagerDuty and webhook receiver http://127.0.0.1:$NOTIFY_PORT"
  log "settings, with the generated passwords: $d/servers.env (mode 600)"
  echo "$d/servers.env"
}

stop() {
  local d=${1:?usage: servers.sh stop DIR}
  [ -d "$d" ] || return 0
  local bin as_pg=()
  bin=$(pg_bin)
  if as_root; then as_pg=(runuser -u postgres --); fi
  local pids=()
  for p in "$d/fakecloud.pid" "$d/app.pid" "$d/s3.pid" "$d/dnsmasq.pid" "$d/redis/redis.pid" "$d/redis-replica/redis.pid" "$d/redis-broken/redis.pid"; do
    [ -f "$p" ] && pids+=("$(cat "$p")")
  done
  [ ${#pids[@]} -gt 0 ] && { kill "${pids[@]}" 2>/dev/null || true; }
  # Up to 5 s to exit on SIGTERM; whatever is still there then is killed, so no run leaves a process behind.
  for _ in $(seq 50); do
    [ ${#pids[@]} -gt 0 ] && kill -0 "${pids[@]}" 2>/dev/null || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for c in replica primary; do
    [ -f "$d/pg/$c/postmaster.pid" ] && "${as_pg[@]}" "$bin/pg_ctl" -D "$d/pg/$c" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
  done
  case "$d" in
    /tmp/*) rm -rf "$d" ;;
    *) log "left $d in place (only folders under /tmp are removed)" ;;
  esac
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  install) install_prereqs ;;
  *) echo "usage: $0 start [DIR] | stop DIR | install" >&2; exit 2 ;;
esac
