# shellcheck shell=bash
# Shared helpers for the ops/ scripts: progress lines, one-line failures,
# root/apt helpers and local port helpers. Sourced; sets no shell options.

[ -n "${_OPS_COMMON_LOADED:-}" ] && return 0
_OPS_COMMON_LOADED=1

OPS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$OPS_LIB_DIR/../.." && pwd)
OPS_VAR_DIR="$REPO_ROOT/var"
OPS_LOG_DIR="$OPS_VAR_DIR/log"
# Name shown in progress and failure lines; callers may override.
OPS_NAME="${OPS_NAME:-ops}"

# --- progress lines (coloured only on a terminal) ---------------------------
if [ -t 2 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-dumb}" != dumb ]; then
  _c_step=$'\033[1;34m' _c_ok=$'\033[1;32m' _c_warn=$'\033[1;33m'
  _c_err=$'\033[1;31m' _c_dim=$'\033[2m' _c_off=$'\033[0m'
else
  _c_step='' _c_ok='' _c_warn='' _c_err='' _c_dim='' _c_off=''
fi

log_step() { printf '%s==>%s %s\n' "$_c_step" "$_c_off" "$*" >&2; }
log_info() { printf '%s    %s%s\n' "$_c_dim" "$*" "$_c_off" >&2; }
log_ok()   { printf '%s ok%s %s\n' "$_c_ok" "$_c_off" "$*" >&2; }
log_warn() { printf '%s !!%s %s\n' "$_c_warn" "$_c_off" "$*" >&2; }

# fail_line WHAT [FIX]: the one line that says what failed and how to fix it.
fail_line() {
  if [ $# -ge 2 ] && [ -n "$2" ]; then
    printf '%sFAILED%s [%s] %s -- fix: %s\n' "$_c_err" "$_c_off" "$OPS_NAME" "$1" "$2" >&2
  else
    printf '%sFAILED%s [%s] %s\n' "$_c_err" "$_c_off" "$OPS_NAME" "$1" >&2
  fi
}

# die WHAT [FIX]: print the failure line and exit 1. Never call it inside $(...).
die() {
  fail_line "$@"
  exit 1
}

# A command that fails without an explicit die still gets one clear line.
ops_install_err_trap() {
  set -E
  trap '_ops_on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR
}
_ops_on_err() {
  [ "${BASH_SUBSHELL:-0}" -eq 0 ] || return 0
  fail_line "unexpected failure (exit $1) at ${BASH_SOURCE[1]:-$0}:$2 running: $3" \
    "read the output above; rerun with 'bash -x' to trace"
}

# --- environment helpers ------------------------------------------------------
is_root() { [ "$(id -u)" -eq 0 ]; }

# Short stable id for this checkout (used in private node names and paths).
repo_hash() { printf '%s' "$REPO_ROOT" | cksum | cut -d' ' -f1; }

ops_var_init() {
  mkdir -p "$OPS_VAR_DIR" "$OPS_LOG_DIR" || return 1
  # Private service users (postgres) must be able to traverse var/.
  chmod 0755 "$OPS_VAR_DIR" 2>/dev/null || true
}

# redact_url URL: hide a password in a URL for printing.
redact_url() { printf '%s' "$1" | sed -E 's#^([a-zA-Z0-9+.-]+://[^:/@]*):[^@/]*@#\1:***@#'; }

_OPS_APT_UPDATED=0
# apt_install PKG...: root only; runs 'apt-get update' once per process.
apt_install() {
  is_root || return 1
  command -v apt-get >/dev/null 2>&1 || return 1
  ops_var_init || return 1
  local log="$OPS_LOG_DIR/apt.log"
  if [ "$_OPS_APT_UPDATED" -eq 0 ]; then
    log_info "apt-get update (log: ${log#"$REPO_ROOT"/})"
    if ! DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$log" 2>&1; then
      tail -n 5 "$log" >&2
      return 1
    fi
    _OPS_APT_UPDATED=1
  fi
  log_info "apt-get install -y $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "$@" </dev/null >>"$log" 2>&1; then
    tail -n 5 "$log" >&2
    return 1
  fi
}

# need_cmd CMD PKG: make sure CMD exists, installing Debian package PKG when root.
need_cmd() {
  local cmd=$1 pkg=$2
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if is_root && command -v apt-get >/dev/null 2>&1; then
    log_step "installing $pkg (needed for $cmd)"
    apt_install "$pkg" || die "apt-get install $pkg failed (see var/log/apt.log)" \
      "check the network to the Debian mirror, then rerun"
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after installing $pkg" \
      "install the package that provides $cmd"
  else
    die "$cmd not found" "install the Debian package '$pkg' (sudo apt-get install $pkg) and rerun"
  fi
}

# --- ports --------------------------------------------------------------------
# port_in_use PORT: something listens on 127.0.0.1/any address at PORT.
port_in_use() {
  local p=$1
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] && return 0
  fi
  # shellcheck disable=SC2016  # $0 expands in the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$p" 2>/dev/null
}

# pick_free_port BASE: print the first free port in BASE..BASE+99.
pick_free_port() {
  local p
  for ((p = $1; p < $1 + 100; p++)); do
    if ! port_in_use "$p"; then
      printf '%s\n' "$p"
      return 0
    fi
  done
  return 1
}

# tcp_open HOST PORT: a TCP connect succeeds within 3 s.
# shellcheck disable=SC2016  # $0/$1 expand in the inner bash
tcp_open() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }
