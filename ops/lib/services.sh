# shellcheck shell=bash
# Service bootstrap for PostgreSQL and RabbitMQ, sourced by ops/run and ops/test.
#
#   services_bootstrap [--private]   finds or starts both services, exports
#                                    DATABASE_URL and AMQP_URL
#   services_require_createdb        fails unless the DATABASE_URL user may CREATE DATABASE
#   services_stop_private [--started-only]
#                                    stops the private instances under var/
#
# Order of preference for each service (unless --private):
#   1. DATABASE_URL / AMQP_URL from the environment (checked to answer);
#   2. a local server on the default port (PostgreSQL 127.0.0.1:5432 as role
#      'root', RabbitMQ 127.0.0.1:5672 as guest/guest);
#   3. a private instance under var/, started from the installed binaries
#      (PostgreSQL on 55432+, RabbitMQ on 55672+, its own epmd port).
# --private skips 1 and 2. Private instances are reused while they run.

# shellcheck source=ops/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PG_DEFAULT_PORT=5432
AMQP_DEFAULT_PORT=5672
PG_PRIVATE_BASE_PORT=55432
PG_PRIVATE_SUPERUSER=cryptolens
APP_DB_NAME=cryptolens
RMQ_PRIVATE_BASE_PORT=55672
RMQ_PRIVATE_BASE_DIST_PORT=56672
RMQ_PRIVATE_BASE_EPMD_PORT=54369

# Set by services_bootstrap: env | default | private
SERVICES_PG_KIND=''
SERVICES_AMQP_KIND=''
# 1 when this process started the private instance (not merely reused it).
SERVICES_PG_STARTED=0
SERVICES_AMQP_STARTED=0

services_bootstrap() {
  local private=0 arg
  for arg in "$@"; do
    case $arg in
      --private) private=1 ;;
      *) die "services_bootstrap: unknown option '$arg'" "use --private or nothing" ;;
    esac
  done
  ops_var_init || die "cannot create $OPS_VAR_DIR" "check the permissions of the repo directory"
  need_cmd psql postgresql-client
  need_cmd pg_isready postgresql-client

  log_step "PostgreSQL"
  if [ "$private" -eq 1 ]; then
    log_info "--private: using a private PostgreSQL under var/"
    _pg_private_start
  elif [ -n "${DATABASE_URL:-}" ]; then
    _pg_use_env
  elif _pg_try_default; then
    :
  else
    log_info "no usable PostgreSQL on 127.0.0.1:$PG_DEFAULT_PORT; starting a private one under var/"
    _pg_private_start
  fi
  log_ok "PostgreSQL ($SERVICES_PG_KIND): $(redact_url "$DATABASE_URL")"

  log_step "RabbitMQ"
  if [ "$private" -eq 1 ]; then
    log_info "--private: using a private RabbitMQ under var/"
    _rmq_private_start
  elif [ -n "${AMQP_URL:-}" ]; then
    _amqp_use_env
  elif _amqp_probe 127.0.0.1 "$AMQP_DEFAULT_PORT"; then
    SERVICES_AMQP_KIND=default
    AMQP_URL="amqp://guest:guest@127.0.0.1:$AMQP_DEFAULT_PORT/%2f"
  else
    log_info "no RabbitMQ on 127.0.0.1:$AMQP_DEFAULT_PORT; starting a private one under var/"
    _rmq_private_start
  fi
  log_ok "RabbitMQ ($SERVICES_AMQP_KIND): $(redact_url "$AMQP_URL")"
  export DATABASE_URL AMQP_URL
}

# --- PostgreSQL: helpers --------------------------------------------------------

# _psql URL SQL: run one statement, print unaligned tuples, errors to stderr.
_psql() {
  PGCONNECT_TIMEOUT=5 psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# _pg_url_with_db URL DB: the same server URL with another database name.
_pg_url_with_db() {
  local url=$1 db=$2 base query=''
  case $url in *\?*) query="?${url#*\?}"; url=${url%%\?*} ;; esac
  base=${url#*://}
  case $base in
    */*) base=${url%/*} ;;
    *) base=$url ;;
  esac
  printf '%s/%s%s\n' "$base" "$db" "$query"
}

# _pg_ensure_db ADMIN_URL DB: create DB if missing.
_pg_ensure_db() {
  local admin=$1 db=$2 exists
  exists=$(_psql "$admin" "SELECT 1 FROM pg_database WHERE datname = '$db'") || return 1
  if [ "$exists" != 1 ]; then
    log_info "creating database $db"
    _psql "$admin" "CREATE DATABASE \"$db\"" || return 1
  fi
}

# _pg_can_createdb URL: the connected role is superuser or has CREATEDB.
_pg_can_createdb() {
  [ "$(_psql "$1" "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user" 2>/dev/null)" = t ]
}

_pg_use_env() {
  local shown err
  shown=$(redact_url "$DATABASE_URL")
  pg_isready -q -t 5 -d "$DATABASE_URL" \
    || die "DATABASE_URL ($shown) does not answer (pg_isready)" \
      "start that server, correct DATABASE_URL, or unset it to use/start a local one"
  if ! err=$(_psql "$DATABASE_URL" 'SELECT 1' 2>&1 >/dev/null); then
    if printf '%s' "$err" | grep -q 'does not exist' && printf '%s' "$err" | grep -q 'database'; then
      local db admin
      db=${DATABASE_URL%%\?*}
      db=${db##*/}
      admin=$(_pg_url_with_db "$DATABASE_URL" postgres)
      _pg_ensure_db "$admin" "$db" \
        || die "database '$db' from DATABASE_URL ($shown) is missing and could not be created" \
          "create it (createdb $db) or point DATABASE_URL at an existing database"
    else
      die "cannot connect with DATABASE_URL ($shown): $(printf '%s' "$err" | head -n 1)" \
        "correct the user/password/database in DATABASE_URL"
    fi
  fi
  SERVICES_PG_KIND="env"
}

# Local server on 127.0.0.1:5432, role root, trust auth. Returns 1 if unusable.
_pg_try_default() {
  pg_isready -q -t 3 -h 127.0.0.1 -p "$PG_DEFAULT_PORT" || return 1
  local admin="postgres://root@127.0.0.1:$PG_DEFAULT_PORT/postgres" err
  if ! err=$(_psql "$admin" 'SELECT 1' 2>&1 >/dev/null); then
    if printf '%s' "$err" | grep -q 'role "root" does not exist' && is_root && id postgres >/dev/null 2>&1; then
      log_info "creating PostgreSQL role root (superuser) as OS user postgres"
      _pg_as_postgres_admin 'CREATE ROLE root SUPERUSER LOGIN' || true
      err=$(_psql "$admin" 'SELECT 1' 2>&1 >/dev/null) && err=''
    fi
    if [ -n "$err" ]; then
      log_warn "PostgreSQL on 127.0.0.1:$PG_DEFAULT_PORT answers but role root cannot connect: $(printf '%s' "$err" | head -n 1)"
      return 1
    fi
  fi
  if ! _pg_can_createdb "$admin"; then
    if is_root && id postgres >/dev/null 2>&1; then
      log_info "granting CREATEDB to role root"
      _pg_as_postgres_admin 'ALTER ROLE root CREATEDB' || true
    fi
    _pg_can_createdb "$admin" \
      || log_warn "role root on 127.0.0.1:$PG_DEFAULT_PORT lacks CREATEDB (tests need it)"
  fi
  _pg_ensure_db "$admin" "$APP_DB_NAME" || {
    log_warn "could not create database $APP_DB_NAME on 127.0.0.1:$PG_DEFAULT_PORT"
    return 1
  }
  DATABASE_URL="postgres://root@127.0.0.1:$PG_DEFAULT_PORT/$APP_DB_NAME"
  SERVICES_PG_KIND=default
}

# Run one SQL statement as the 'postgres' OS user (peer auth over the socket).
_pg_as_postgres_admin() {
  (cd / && _as_user postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_DEFAULT_PORT" -d postgres -c "$1") \
    || (cd / && _as_user postgres psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_DEFAULT_PORT" -d postgres -c "$1")
}

# _as_user USER CMD...: run CMD as USER (we are root), or directly if USER is us.
_as_user() {
  local user=$1
  shift
  if [ "$(id -un)" = "$user" ]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u "$user" -- "$@"
  else
    su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
  fi
}

# --- PostgreSQL: private instance ----------------------------------------------

# Directory of initdb/pg_ctl (highest installed version).
_pg_bindir() {
  local v
  if [ -d /usr/lib/postgresql ]; then
    for v in $(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V -r); do
      if [ -x "/usr/lib/postgresql/$v/bin/initdb" ] && [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]; then
        printf '%s\n' "/usr/lib/postgresql/$v/bin"
        return 0
      fi
    done
  fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

# The OS user that owns and runs the private PostgreSQL (postgres refuses root).
_pg_os_user() {
  if ! is_root; then
    id -un
  elif id postgres >/dev/null 2>&1; then
    printf 'postgres\n'
  else
    printf 'cryptolens-pg\n'
  fi
}

# Where the private cluster lives: var/postgres, or, if the service user cannot
# reach var/ (repo under a private home directory), a per-checkout dir in /var/tmp.
_pg_private_layout() {
  PG_OS_USER=$(_pg_os_user)
  if is_root && [ -e "$(_pg_fallback_base)/data/PG_VERSION" ]; then
    _pg_set_paths "$(_pg_fallback_base)"
  else
    _pg_set_paths "$OPS_VAR_DIR/postgres"
  fi
}

_pg_fallback_base() { printf '/var/tmp/cryptolens-pg-%s\n' "$(repo_hash)"; }

# _pg_set_paths BASE: the cluster's paths below BASE.
_pg_set_paths() {
  PG_BASE=$1
  PG_DATA="$PG_BASE/data"
  PG_LOG="$PG_BASE/postgres.log"
  PG_PORT_FILE="$PG_BASE/port"
  PG_SOCK="$PG_BASE/sock"
  # A Unix socket path must stay under ~107 bytes.
  if [ $((${#PG_SOCK} + 20)) -gt 100 ]; then
    PG_SOCK="/tmp/cryptolens-pgsock-$(repo_hash)"
  fi
}

# _pg_ctl ARGS...: pg_ctl as the service user.
_pg_ctl() {
  (cd "$PG_BASE" && _as_user "$PG_OS_USER" "$PG_BINDIR/pg_ctl" "$@")
}

_pg_private_running() {
  [ -f "$PG_DATA/PG_VERSION" ] && [ -f "$PG_PORT_FILE" ] || return 1
  _pg_ctl status -D "$PG_DATA" >/dev/null 2>&1 || return 1
  pg_isready -q -t 3 -h 127.0.0.1 -p "$(cat "$PG_PORT_FILE")"
}

_pg_private_start() {
  PG_BINDIR=$(_pg_bindir) || PG_BINDIR=''
  if [ -z "$PG_BINDIR" ]; then
    if is_root && command -v apt-get >/dev/null 2>&1; then
      log_step "installing postgresql (initdb/pg_ctl not found)"
      apt_install postgresql || die "apt-get install postgresql failed (see var/log/apt.log)" \
        "check the network to the Debian mirror, then rerun"
      PG_BINDIR=$(_pg_bindir) || die "initdb/pg_ctl still not found after installing postgresql" \
        "check /usr/lib/postgresql/*/bin"
    else
      die "PostgreSQL server binaries (initdb, pg_ctl) not found" \
        "install the Debian package 'postgresql' (sudo apt-get install postgresql), or set DATABASE_URL"
    fi
  fi
  _pg_private_layout
  if is_root && ! id "$PG_OS_USER" >/dev/null 2>&1; then
    log_info "creating system user $PG_OS_USER to run the private PostgreSQL"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_OS_USER" \
      || die "cannot create OS user $PG_OS_USER" "create a non-root user for PostgreSQL, or set DATABASE_URL"
  fi

  local port
  if _pg_private_running; then
    port=$(cat "$PG_PORT_FILE")
    log_info "reusing the private PostgreSQL on 127.0.0.1:$port (${PG_BASE#"$REPO_ROOT"/})"
  else
    _pg_private_prepare_dirs
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
      log_info "initdb ${PG_DATA#"$REPO_ROOT"/} (as OS user $PG_OS_USER)"
      (cd "$PG_BASE" && _as_user "$PG_OS_USER" "$PG_BINDIR/initdb" -D "$PG_DATA" \
        -U "$PG_PRIVATE_SUPERUSER" --auth=trust -E UTF8 --no-locale) >"$OPS_LOG_DIR/initdb.log" 2>&1 \
        || die "initdb failed (see var/log/initdb.log)" "remove $PG_DATA and rerun; check free disk space"
      {
        printf '\n# cryptolens private instance (ops/lib/services.sh)\n'
        printf "listen_addresses = '127.0.0.1'\n"
        printf 'max_connections = 200\n'
      } >>"$PG_DATA/postgresql.conf"
    fi
    port=''
    if [ -f "$PG_PORT_FILE" ] && ! port_in_use "$(cat "$PG_PORT_FILE")"; then
      port=$(cat "$PG_PORT_FILE")
    fi
    [ -n "$port" ] || port=$(pick_free_port "$PG_PRIVATE_BASE_PORT") \
      || die "no free port in $PG_PRIVATE_BASE_PORT..$((PG_PRIVATE_BASE_PORT + 99)) for PostgreSQL" \
        "free one of those ports, or set DATABASE_URL"
    log_info "starting the private PostgreSQL on 127.0.0.1:$port (log: ${PG_LOG#"$REPO_ROOT"/})"
    _pg_ctl start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
      -o "-p $port -k '$PG_SOCK' -c listen_addresses=127.0.0.1" >"$OPS_LOG_DIR/pg_ctl.log" 2>&1 \
      || die "private PostgreSQL did not start on port $port (see ${PG_LOG#"$REPO_ROOT"/})" \
        "read the log; if the data dir is damaged remove ${PG_BASE#"$REPO_ROOT"/} and rerun"
    printf '%s\n' "$port" >"$PG_PORT_FILE"
    SERVICES_PG_STARTED=1
  fi
  local admin="postgres://$PG_PRIVATE_SUPERUSER@127.0.0.1:$port/postgres"
  _pg_ensure_db "$admin" "$APP_DB_NAME" \
    || die "cannot create database $APP_DB_NAME on the private PostgreSQL (port $port)" \
      "see ${PG_LOG#"$REPO_ROOT"/}"
  DATABASE_URL="postgres://$PG_PRIVATE_SUPERUSER@127.0.0.1:$port/$APP_DB_NAME"
  SERVICES_PG_KIND=private
}

_pg_private_prepare_dirs() {
  mkdir -p "$PG_BASE" "$PG_SOCK" || die "cannot create $PG_BASE" "check permissions"
  if is_root; then
    chown "$PG_OS_USER:" "$PG_BASE" "$PG_SOCK"
    if ! (cd / && _as_user "$PG_OS_USER" test -w "$PG_BASE"); then
      # var/ is not reachable by the service user: use a per-checkout dir in /var/tmp.
      if [ "$PG_SOCK" = "$PG_BASE/sock" ]; then rmdir "$PG_SOCK" 2>/dev/null || true; fi
      rmdir "$PG_BASE" 2>/dev/null || true
      log_info "user $PG_OS_USER cannot reach $OPS_VAR_DIR; using $(_pg_fallback_base) instead"
      _pg_set_paths "$(_pg_fallback_base)"
      { mkdir -p "$PG_BASE" "$PG_SOCK" && chown "$PG_OS_USER:" "$PG_BASE" "$PG_SOCK"; } \
        || die "cannot create $PG_BASE" "check permissions of /var/tmp"
    fi
    [ -f "$PG_PORT_FILE" ] && chown "$PG_OS_USER:" "$PG_PORT_FILE"
  fi
  chmod 0700 "$PG_BASE"
  chmod 0700 "$PG_SOCK"
}

_pg_private_stop() {
  PG_BINDIR=$(_pg_bindir) || return 0
  _pg_private_layout
  [ -f "$PG_DATA/PG_VERSION" ] || return 0
  if _pg_ctl status -D "$PG_DATA" >/dev/null 2>&1; then
    log_info "stopping the private PostgreSQL (${PG_DATA#"$REPO_ROOT"/})"
    _pg_ctl stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null \
      || { fail_line "pg_ctl stop failed for $PG_DATA" "stop it by hand: pg_ctl stop -D $PG_DATA"; return 1; }
  fi
}

# --- RabbitMQ -------------------------------------------------------------------

# _amqp_probe HOST PORT: an AMQP 0-9-1 server answers the protocol header.
_amqp_probe() {
  # shellcheck disable=SC2016  # $0/$1 expand in the inner bash
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "AMQP\0\0\011\001" >&3
    b=$(head -c 1 <&3 | od -An -tx1 | tr -d " \n")
    [ "$b" = 01 ]' "$1" "$2" 2>/dev/null
}

# _amqp_hostport URL: print "host port" of an amqp:// or amqps:// URL.
_amqp_hostport() {
  local url=$1 rest host port
  rest=${url#*://}
  rest=${rest%%/*}
  rest=${rest%%\?*}
  rest=${rest##*@}
  case $url in amqps://*) port=5671 ;; *) port=5672 ;; esac
  case $rest in
    \[*\]:*) host=${rest%%]*}; host=${host#[}; port=${rest##*]:} ;;
    \[*\]) host=${rest#[}; host=${host%]} ;;
    *:*) host=${rest%%:*}; port=${rest##*:} ;;
    *) host=$rest ;;
  esac
  [ -n "$host" ] || host=localhost
  printf '%s %s\n' "$host" "$port"
}

_amqp_use_env() {
  local shown host port
  shown=$(redact_url "$AMQP_URL")
  read -r host port <<<"$(_amqp_hostport "$AMQP_URL")"
  tcp_open "$host" "$port" \
    || die "AMQP_URL ($shown) does not answer on $host:$port" \
      "start that broker, correct AMQP_URL, or unset it to use/start a local one"
  SERVICES_AMQP_KIND="env"
}

_rmq_layout() {
  RMQ_BASE="$OPS_VAR_DIR/rabbitmq"
  RMQ_NODE="cryptolens-$(repo_hash)@localhost"
  RMQ_PORTS_FILE="$RMQ_BASE/ports.env"
  RMQ_PORT='' RMQ_DIST_PORT='' RMQ_EPMD_PORT=''
  if [ -f "$RMQ_PORTS_FILE" ]; then
    # shellcheck disable=SC1090
    source "$RMQ_PORTS_FILE"
  fi
  if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    # Debian's /usr/sbin wrappers switch to the rabbitmq user and its HOME
    # (cookie); the real scripts run as us with our private environment.
    RMQ_BINDIR=/usr/lib/rabbitmq/bin
  elif command -v rabbitmq-server >/dev/null 2>&1; then
    RMQ_BINDIR=$(dirname "$(command -v rabbitmq-server)")
  else
    RMQ_BINDIR=''
  fi
}

# _rmq_run SECONDS CMD...: run CMD (a program, not a function) with the private
# node's environment, killed after SECONDS.
_rmq_run() {
  local t=$1
  shift
  timeout "$t" env HOME="$RMQ_BASE/home" \
    RABBITMQ_NODENAME="$RMQ_NODE" \
    RABBITMQ_USE_LONGNAME=false \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$RMQ_PORT" \
    RABBITMQ_DIST_PORT="$RMQ_DIST_PORT" \
    RABBITMQ_CTL_DIST_PORT_MIN="$((RMQ_DIST_PORT + 1))" \
    RABBITMQ_CTL_DIST_PORT_MAX="$((RMQ_DIST_PORT + 20))" \
    ERL_EPMD_PORT="$RMQ_EPMD_PORT" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_CONF_ENV_FILE="$RMQ_BASE/rabbitmq-env.conf" \
    RABBITMQ_CONFIG_FILE="$RMQ_BASE/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_BASE/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_BASE/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$RMQ_BASE/mnesia" \
    RABBITMQ_LOG_BASE="$RMQ_BASE/log" \
    RABBITMQ_PID_FILE="$RMQ_BASE/rabbitmq.pid" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    "$@"
}

# _rmq_ctl SECONDS ARGS...: rabbitmqctl against the private node.
_rmq_ctl() {
  local t=$1
  shift
  _rmq_run "$t" "$RMQ_BINDIR/rabbitmqctl" -n "$RMQ_NODE" "$@"
}

# _rmq_ping: the private node answers (quietly).
_rmq_ping() {
  _rmq_run 30 "$RMQ_BINDIR/rabbitmq-diagnostics" -q -n "$RMQ_NODE" ping >/dev/null 2>&1
}

# Probe AMQP first: a CLI ping of a node that is down would start an epmd.
_rmq_private_running() {
  [ -n "$RMQ_PORT" ] && [ -n "$RMQ_BINDIR" ] || return 1
  _amqp_probe 127.0.0.1 "$RMQ_PORT" && _rmq_ping
}

_rmq_private_start() {
  _rmq_layout
  if [ -z "$RMQ_BINDIR" ]; then
    if is_root && command -v apt-get >/dev/null 2>&1; then
      log_step "installing rabbitmq-server (not found)"
      apt_install rabbitmq-server || die "apt-get install rabbitmq-server failed (see var/log/apt.log)" \
        "check the network to the Debian mirror, then rerun"
      _rmq_layout
      [ -n "$RMQ_BINDIR" ] || die "rabbitmq-server still not found after installing it" \
        "check /usr/lib/rabbitmq/bin"
    else
      die "rabbitmq-server not found" \
        "install the Debian package 'rabbitmq-server' (sudo apt-get install rabbitmq-server), or set AMQP_URL"
    fi
  fi
  if _rmq_private_running; then
    log_info "reusing the private RabbitMQ $RMQ_NODE on 127.0.0.1:$RMQ_PORT"
  else
    _rmq_private_configure
    local log="$OPS_LOG_DIR/rabbitmq-start.log"
    log_info "starting the private RabbitMQ $RMQ_NODE on 127.0.0.1:$RMQ_PORT (epmd $RMQ_EPMD_PORT, dist $RMQ_DIST_PORT; logs: ${RMQ_BASE#"$REPO_ROOT"/}/log)"
    (cd "$RMQ_BASE" && _rmq_run 60 "$RMQ_BINDIR/rabbitmq-server" -detached) >"$log" 2>&1 \
      || die "rabbitmq-server -detached failed (see var/log/rabbitmq-start.log)" \
        "read the log; remove var/rabbitmq and rerun if its data is damaged"
    SERVICES_AMQP_STARTED=1
    # The node takes a few seconds to register with epmd; then await_startup.
    local deadline=$((SECONDS + 90))
    until _rmq_ping; do
      [ "$SECONDS" -lt "$deadline" ] \
        || die "private RabbitMQ node $RMQ_NODE did not come up within 90 s (logs: var/rabbitmq/log)" \
          "read the logs; check free disk space; remove var/rabbitmq and rerun"
      sleep 1
    done
    _rmq_ctl 150 -q await_startup --timeout 120 >>"$log" 2>&1 \
      || die "private RabbitMQ did not finish starting within 120 s (logs: var/rabbitmq/log)" \
        "read the logs; remove var/rabbitmq and rerun"
    _amqp_probe 127.0.0.1 "$RMQ_PORT" \
      || die "private RabbitMQ started but does not answer AMQP on 127.0.0.1:$RMQ_PORT" \
        "read var/rabbitmq/log; another program may hold the port"
  fi
  AMQP_URL="amqp://guest:guest@127.0.0.1:$RMQ_PORT/%2f"
  SERVICES_AMQP_KIND=private
}

# Pick ports (reusing the recorded ones while free) and write config files.
_rmq_private_configure() {
  mkdir -p "$RMQ_BASE/home" "$RMQ_BASE/mnesia" "$RMQ_BASE/log" \
    || die "cannot create $RMQ_BASE" "check permissions"
  chmod 0700 "$RMQ_BASE" "$RMQ_BASE/home"
  local fixed="free one of the ports or set AMQP_URL"
  if [ -z "$RMQ_PORT" ] || port_in_use "$RMQ_PORT"; then
    RMQ_PORT=$(pick_free_port "$RMQ_PRIVATE_BASE_PORT") \
      || die "no free port near $RMQ_PRIVATE_BASE_PORT for RabbitMQ" "$fixed"
  fi
  if [ -z "$RMQ_DIST_PORT" ] || port_in_use "$RMQ_DIST_PORT"; then
    RMQ_DIST_PORT=$(pick_free_port "$RMQ_PRIVATE_BASE_DIST_PORT") \
      || die "no free port near $RMQ_PRIVATE_BASE_DIST_PORT for RabbitMQ distribution" "$fixed"
  fi
  # An epmd already on the recorded port (left by an earlier run) is reused.
  if [ -z "$RMQ_EPMD_PORT" ] || { port_in_use "$RMQ_EPMD_PORT" && ! _rmq_epmd_answers; }; then
    RMQ_EPMD_PORT=$(pick_free_port "$RMQ_PRIVATE_BASE_EPMD_PORT") \
      || die "no free port near $RMQ_PRIVATE_BASE_EPMD_PORT for epmd" "$fixed"
  fi
  printf 'RMQ_PORT=%s\nRMQ_DIST_PORT=%s\nRMQ_EPMD_PORT=%s\n' \
    "$RMQ_PORT" "$RMQ_DIST_PORT" "$RMQ_EPMD_PORT" >"$RMQ_PORTS_FILE"
  {
    printf '# cryptolens private RabbitMQ (ops/lib/services.sh); rewritten at each start\n'
    printf 'listeners.tcp.1 = 127.0.0.1:%s\n' "$RMQ_PORT"
    printf 'loopback_users.guest = true\n'
    printf 'disk_free_limit.absolute = 50MB\n'
  } >"$RMQ_BASE/rabbitmq.conf"
  printf '[].\n' >"$RMQ_BASE/enabled_plugins"
  printf '[].\n' >"$RMQ_BASE/advanced.config"
  : >"$RMQ_BASE/rabbitmq-env.conf"
  if [ ! -s "$RMQ_BASE/home/.erlang.cookie" ]; then
    (umask 077 && head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr 'a-f0-9' 'A-P' | head -c 32 \
      >"$RMQ_BASE/home/.erlang.cookie")
  fi
  chmod 0400 "$RMQ_BASE/home/.erlang.cookie"
}

# What listens on RMQ_EPMD_PORT is an epmd (a name server; ours or shareable).
_rmq_epmd_answers() {
  ERL_EPMD_PORT="$RMQ_EPMD_PORT" timeout 5 epmd -names >/dev/null 2>&1
}

_rmq_private_stop() {
  _rmq_layout
  [ -n "$RMQ_PORT" ] && [ -n "$RMQ_BINDIR" ] || return 0
  local pidfile="$RMQ_BASE/rabbitmq.pid" pid=''
  [ -f "$pidfile" ] && pid=$(cat "$pidfile")
  if _amqp_probe 127.0.0.1 "$RMQ_PORT" || { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }; then
    log_info "stopping the private RabbitMQ $RMQ_NODE"
    _rmq_ctl 90 -q stop "$pidfile" >/dev/null 2>&1 \
      || log_warn "rabbitmqctl stop failed for $RMQ_NODE"
  fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q "$RMQ_NODE" "/proc/$pid/cmdline" 2>/dev/null; then
    log_warn "private RabbitMQ (pid $pid) still running; sending SIGTERM"
    kill -TERM "$pid" 2>/dev/null || true
    sleep 5
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  # The private epmd (started by the node on its own port) goes too.
  if [ -n "$RMQ_EPMD_PORT" ] && port_in_use "$RMQ_EPMD_PORT"; then
    ERL_EPMD_PORT="$RMQ_EPMD_PORT" timeout 5 epmd -kill >/dev/null 2>&1 || true
  fi
  rm -f "$pidfile"
}

# --- shared -----------------------------------------------------------------------

# services_require_createdb: tests create a database each; fail clearly if not allowed.
services_require_createdb() {
  local admin
  admin=$(_pg_url_with_db "$DATABASE_URL" postgres)
  _pg_can_createdb "$admin" \
    || die "the DATABASE_URL user ($(redact_url "$DATABASE_URL")) may not CREATE DATABASE (tests need it)" \
      "ALTER ROLE <user> CREATEDB; or unset DATABASE_URL to use the local/private server"
}

# services_stop_private [--started-only]: stop the private instances under var/;
# with --started-only, only those this process started.
services_stop_private() {
  local only=0 rc=0
  [ "${1:-}" = --started-only ] && only=1
  if [ "$only" -eq 0 ] || [ "$SERVICES_PG_STARTED" -eq 1 ]; then
    _pg_private_stop || rc=1
    SERVICES_PG_STARTED=0
  fi
  if [ "$only" -eq 0 ] || [ "$SERVICES_AMQP_STARTED" -eq 1 ]; then
    _rmq_private_stop || rc=1
    SERVICES_AMQP_STARTED=0
  fi
  return "$rc"
}
