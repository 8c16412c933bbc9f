#!/usr/bin/env bash
# ensure-postgres.sh — make a PostgreSQL server reachable and print a working
# admin connection URL as the last (and only) line on stdout. Everything else
# goes to stderr. Idempotent; works as root or as a non-root user.
#
# Usage: scripts/ensure-postgres.sh [--database NAME]
#
#   --database NAME   print a URL for database NAME instead of the admin
#                     database, creating NAME first if it is missing. Ignored
#                     when $DATABASE_URL is set and works (that URL is printed
#                     as is).
#
# Order of attempts:
#   1. $DATABASE_URL, if set and `select 1` works on it;
#   2. postgres://postgres@127.0.0.1:5432/postgres (trust auth);
#   3. postgres://medialuna:medialuna@127.0.0.1:5432/medialuna (set up by an
#      earlier run of this script);
#   4. install PostgreSQL (Debian's package) if no server is installed, start
#      (or create) a cluster, create the SUPERUSER role medialuna/medialuna and
#      its database medialuna, then print one of the URLs above.
# Root is needed for 4 (directly or through `sudo -n`); without it the script
# fails with a message telling what to do.
set -euo pipefail

# All diagnostics on stderr; keep fd 3 for the single line of real output.
exec 3>&1 1>&2

want_db=""
while [ $# -gt 0 ]; do
  case "$1" in
    --database) want_db="${2:?--database needs a name}"; shift 2 ;;
    --database=*) want_db="${1#--database=}"; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "ensure-postgres: unknown argument: $1" ; exit 2 ;;
  esac
done
if [ -n "$want_db" ] && ! [[ "$want_db" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
  echo "ensure-postgres: --database must be a plain identifier, got '$want_db'"
  exit 2
fi

log() { echo "ensure-postgres: $*"; }
die() { echo "ensure-postgres: error: $*"; exit 1; }

HOST=127.0.0.1
PORT=5432
ROLE=medialuna
ROLE_PW=medialuna
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-3}"

have() { command -v "$1" >/dev/null 2>&1; }

trust_url() { echo "postgres://postgres@$HOST:$PORT/${1:-postgres}?sslmode=disable"; }
role_url() { echo "postgres://$ROLE:$ROLE_PW@$HOST:$PORT/${1:-$ROLE}?sslmode=disable"; }

# works URL: true when `select 1` succeeds on URL.
works() {
  have psql || return 1
  psql "$1" -X -Atqc 'select 1' >/dev/null 2>&1
}

# emit URL: print the final answer (for --database, first make sure the
# database exists, using the admin URL) and exit.
emit() {
  local url="$1" kind="$2" # kind: trust | role
  if [ -n "$want_db" ]; then
    local exists
    exists=$(psql "$url" -X -Atqc "select 1 from pg_database where datname = '$want_db'" 2>/dev/null || true)
    if [ "$exists" != 1 ]; then
      log "creating database $want_db"
      psql "$url" -X -q -v ON_ERROR_STOP=1 -c "create database \"$want_db\"" ||
        die "could not create database $want_db"
    fi
    if [ "$kind" = trust ]; then url=$(trust_url "$want_db"); else url=$(role_url "$want_db"); fi
    works "$url" || die "database $want_db exists but $url does not work"
  fi
  echo "$url" >&3
  exit 0
}

# 1. $DATABASE_URL
if [ -n "${DATABASE_URL:-}" ]; then
  if works "$DATABASE_URL"; then
    log "using \$DATABASE_URL"
    echo "$DATABASE_URL" >&3
    exit 0
  fi
  if ! have psql; then
    log "psql is not installed: cannot check \$DATABASE_URL, using it as is"
    echo "$DATABASE_URL" >&3
    exit 0
  fi
  log "\$DATABASE_URL is set but 'select 1' fails on it; looking for a local server"
fi

# 2./3. A local server that already lets us in.
try_known_urls() {
  if works "$(trust_url)"; then emit "$(trust_url)" trust; fi
  if works "$(role_url)"; then emit "$(role_url)" role; fi
}
try_known_urls

# --- From here on we may need root. ---------------------------------------
uid=$(id -u)
user=$(id -un 2>/dev/null || echo "uid $uid")

sudo_ok() { have sudo && sudo -n true >/dev/null 2>&1; }

# as_root CMD...: run CMD as root (directly or through sudo -n).
as_root() {
  if [ "$uid" -eq 0 ]; then "$@"
  elif sudo_ok; then sudo -n "$@"
  else return 126
  fi
}
can_root() { [ "$uid" -eq 0 ] || sudo_ok; }

# as_postgres CMD...: run CMD as the postgres OS user (peer auth on the socket).
as_postgres() {
  if [ "$user" = postgres ]; then (cd / && "$@")
  elif [ "$uid" -eq 0 ]; then
    if have runuser; then (cd / && runuser -u postgres -- "$@")
    else (cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
    fi
  elif sudo_ok; then (cd / && sudo -n -u postgres -- "$@")
  else return 126
  fi
}

need_root_msg() {
  cat <<EOF
ensure-postgres: error: $1, which needs root: you are $user and 'sudo -n' is not available.
  Either run this script as root (or with passwordless sudo), or set up
  PostgreSQL yourself, e.g.
      sudo apt-get install -y postgresql && sudo pg_ctlcluster <version> main start
  or point DATABASE_URL at a server where you may create databases, e.g.
      export DATABASE_URL='postgres://USER:PASSWORD@HOST:5432/postgres?sslmode=disable'
EOF
  exit 1
}

# Highest installed server version ("" when none).
server_version() {
  local d v best=""
  for d in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$d" ] || continue
    v=${d#/usr/lib/postgresql/}; v=${v%%/*}
    if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n1)" = "$v" ]; then best=$v; fi
  done
  echo "$best"
}

# 4a. Install the server if there is none.
ver=$(server_version)
if [ -z "$ver" ] || ! have pg_ctlcluster; then
  can_root || need_root_msg "no PostgreSQL server is installed and one must be"
  have apt-get || die "no PostgreSQL server found and apt-get is not available: install PostgreSQL or set DATABASE_URL"
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when postgresql has no install candidate.
  cand=$(apt-cache policy postgresql 2>/dev/null | awk '/Candidate:/ {print $2}')
  if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
    log "running apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || log "apt-get update failed; trying the install anyway"
  fi
  log "installing postgresql with apt-get"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; then
    log "install failed; running apt-get update and retrying"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || true
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql ||
      die "apt-get install postgresql failed: install PostgreSQL yourself or set DATABASE_URL"
  fi
  ver=$(server_version)
  [ -n "$ver" ] || die "postgresql was installed but no server binary was found under /usr/lib/postgresql"
  log "installed PostgreSQL $ver"
fi

# 4b. Find a cluster: prefer an online one on 5432, then any online one, then
# the newest down one; create "<ver> main" if there is none.
# pg_lsclusters -h columns: version cluster port status owner datadir logfile
pick_cluster() {
  pg_lsclusters -h 2>/dev/null | awk '
    $4 ~ /^online/ && $3 == 5432 { print 1, $1, $2, $3, $4; next }
    $4 ~ /^online/               { print 2, $1, $2, $3, $4; next }
                                 { print 3, $1, $2, $3, $4 }' |
    sort -k1,1n -k2,2Vr | head -n1 | cut -d' ' -f2-
}

cl=$(pick_cluster)
if [ -z "$cl" ]; then
  can_root || need_root_msg "no PostgreSQL cluster exists and one must be created"
  log "no PostgreSQL cluster exists; creating $ver main"
  as_root pg_createcluster "$ver" main || die "pg_createcluster $ver main failed"
  cl=$(pick_cluster)
  [ -n "$cl" ] || die "pg_createcluster ran but pg_lsclusters shows no cluster"
fi
read -r cl_ver cl_name cl_port cl_status <<<"$cl"
PORT=$cl_port

if [[ "$cl_status" != online* ]]; then
  if can_root; then
    log "starting cluster $cl_ver/$cl_name (port $cl_port, was $cl_status)"
    as_root pg_ctlcluster --skip-systemctl-redirect "$cl_ver" "$cl_name" start ||
      die "could not start cluster $cl_ver/$cl_name; see /var/log/postgresql/postgresql-$cl_ver-$cl_name.log"
  elif [ "$(stat -c %U "/etc/postgresql/$cl_ver/$cl_name" 2>/dev/null)" = "$user" ]; then
    log "starting cluster $cl_ver/$cl_name (port $cl_port, was $cl_status)"
    pg_ctlcluster --skip-systemctl-redirect "$cl_ver" "$cl_name" start ||
      die "could not start cluster $cl_ver/$cl_name"
  else
    need_root_msg "PostgreSQL cluster $cl_ver/$cl_name (port $cl_port) is down and must be started"
  fi
fi

# 4c. Wait for the server to accept connections on TCP.
log "waiting for PostgreSQL on $HOST:$PORT"
ready=""
for _ in $(seq 1 60); do
  if pg_isready -q -h "$HOST" -p "$PORT"; then ready=1; break; fi
  sleep 0.5
done
[ -n "$ready" ] || die "PostgreSQL did not become ready on $HOST:$PORT within 30 s (see /var/log/postgresql/)"

try_known_urls

# 4d. Password login over TCP: role medialuna (SUPERUSER: the tests create and
# drop databases) and its database. Debian's default pg_hba.conf accepts
# scram-sha-256 passwords from 127.0.0.1.
can_root || [ "$user" = postgres ] ||
  need_root_msg "neither the trust URL nor role $ROLE works on $HOST:$PORT, and role $ROLE must be created"
log "creating role $ROLE and database $ROLE (port $PORT)"
as_postgres psql -X -q -p "$PORT" -d postgres -v ON_ERROR_STOP=1 <<SQL || die "could not create role $ROLE"
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN SUPERUSER PASSWORD '$ROLE_PW';
  ELSE
    ALTER ROLE $ROLE LOGIN SUPERUSER PASSWORD '$ROLE_PW';
  END IF;
END
\$\$;
SQL
db_exists=$(as_postgres psql -X -Atq -p "$PORT" -d postgres -c "select 1 from pg_database where datname = '$ROLE'" || true)
if [ "$db_exists" != 1 ]; then
  as_postgres psql -X -q -p "$PORT" -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $ROLE OWNER $ROLE" ||
    die "could not create database $ROLE"
fi

if works "$(role_url)"; then emit "$(role_url)" role; fi
die "role $ROLE exists but password login to $HOST:$PORT fails; check pg_hba.conf (a 'host all all 127.0.0.1/32 scram-sha-256' line), or set DATABASE_URL"
