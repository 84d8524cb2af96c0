#!/usr/bin/env bash
# The local AWS emulator: moto server on a loopback port.
#
#   local/emulator.sh start   start it unless ours already runs (idempotent: a running one and its state are kept)
#   local/emulator.sh stop    stop ours (also one whose pid file is lost); its resources and state are gone
#   local/emulator.sh status  exit 0 when ours runs and answers
#
# Its port and state directory are the configuration's emulator_port (default
# 4566) and emulator_state_dir (default .emulator), and its endpoint and CA
# bundle the ones config/settings.py derives from them (emulator_endpoint,
# emulator_ca_bundle), all read through pipeline/config_get.py exactly as the
# synthesized Terraform reads them (so STUDENT_MGMT_EMULATOR_PORT and
# config.toml apply). The state directory holds moto.log, moto.pid
# and the bootstrap stack's local Terraform state: moto keeps everything in
# memory, so the state is discarded only when no server of ours is left.
#
# "Ours" is a process whose command line is this project's
# local/emulator/moto_server.py serving this port (and, to count as running for start
# and status, with this state directory's certificate), read from
# /proc/<pid>/cmdline: a pid file alone can name a recycled pid, and a lost pid
# file must not orphan a server. "Answers" is the launcher's health route
# (local/emulator/moto_server.py) answering with that pid; moto's own data dump is not
# used, it fails once a Lambda function exists.
#
# The emulator speaks HTTPS only, with a certificate from a local CA made on
# first start and kept across restarts (the CA is emulator_ca_bundle,
# <state dir>/tls/ca.pem; the server's certificate and key sit beside it). The
# buckets' TLS-only policies then hold locally exactly as in AWS, and clients
# verify the endpoint instead of skipping verification.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
python=${EMULATOR_PYTHON:-$root/.venv/bin/python}
if [[ ! -x $python ]]; then
  echo "emulator: $python not found; run 'make setup' first" >&2
  exit 1
fi
# One Python start-up for the four values; a plain assignment, so an invalid
# configuration stops the script (set -e) with config_get.py's message.
cd "$root"
config=$("$python" -m pipeline.config_get emulator_port emulator_state_dir emulator_endpoint emulator_ca_bundle)
{ read -r port && read -r state_dir && read -r url && read -r ca_bundle; } <<<"$config"
tls=${ca_bundle%/*} # the CA's directory, which also holds the server's certificate and key
pidfile=$state_dir/moto.pid
server=local.emulator.moto_server # run as a module from $root
health=/_emulator/health
answer_wait=30 # seconds a starting server of ours gets to answer
stop_grace=10  # seconds between SIGTERM and SIGKILL

# --- processes -----------------------------------------------------------------

# The command line of a live process, arguments separated by spaces; fails for
# a process that is gone (or a zombie, whose command line is empty).
cmdline_of() {
  local args
  args=$(tr '\0\n' '  ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  [[ -n $args ]] || return 1
  printf '%s\n' "${args% }"
}

# ours PID [any-state]: PID is this project's moto_server.py serving this port,
# with this state directory's certificate unless "any-state" is given.
ours() {
  local pid=$1 scope=${2:-} arg prev="" script="" on_port="" cert=""
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  local -a args=()
  mapfile -d '' -t args 2>/dev/null <"/proc/$pid/cmdline" || return 1
  for arg in "${args[@]}"; do
    # The module as launched, from this project's root (not another checkout's).
    if [[ $prev == -m && $arg == "$server" && $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$root" ]]; then
      script=yes
    fi
    case $prev in -p | --port) [[ $arg == "$port" ]] && on_port=yes ;; esac
    [[ $arg == "--port=$port" ]] && on_port=yes
    case $prev in -c | --ssl-cert) [[ $arg == "$tls/server.pem" ]] && cert=yes ;; esac
    prev=$arg
  done
  [[ -n $script && -n $on_port ]] || return 1
  [[ $scope == any-state || -n $cert ]]
}

# our_pids [any-state] [first]: the pids of our servers, one a line: the pid
# file's, then any other found by command line (an orphan whose pid file was
# lost). With "first", only the first found.
our_pids() {
  local scope=${1:-} first=${2:-} pid="" candidate
  if [[ -f $pidfile ]]; then
    pid=$(<"$pidfile")
    if ours "$pid" "$scope"; then
      echo "$pid"
      [[ -z $first ]] || return 0
    fi
  fi
  for candidate in /proc/[0-9]*; do
    [[ ${candidate#/proc/} != "$pid" ]] || continue
    if ours "${candidate#/proc/}" "$scope"; then
      echo "${candidate#/proc/}"
      [[ -z $first ]] || return 0
    fi
  done
}

# The pids listening on this port (one per line; none when the port is free or
# its holder is invisible to this user).
listeners() {
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "( sport = :$port )" 2>/dev/null | { grep -o 'pid=[0-9]*' || true; } | cut -d= -f2 | sort -un
    return 0
  fi
  # No ss: listening sockets from /proc/net (state 0A), then the processes
  # holding them through /proc/<pid>/fd.
  local inodes fd link
  inodes=$(awk -v p="$(printf ':%04X' "$port")" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u)
  [[ -n $inodes ]] || return 0
  for fd in /proc/[0-9]*/fd/*; do
    link=$(readlink "$fd" 2>/dev/null) || continue
    [[ $link == socket:\[*\] ]] || continue
    link=${link#socket:[}
    link=${link%]}
    if [[ $'\n'$inodes$'\n' == *$'\n'$link$'\n'* ]]; then
      fd=${fd#/proc/}
      echo "${fd%%/*}"
    fi
  done | sort -un
}

# Whether anything listens on this port (even a holder whose pid is hidden).
port_held() {
  if command -v ss >/dev/null 2>&1; then
    [[ -n $(ss -Hltn "( sport = :$port )" 2>/dev/null) ]]
  else
    awk -v p="$(printf ':%04X' "$port")" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
      /proc/net/tcp /proc/net/tcp6 2>/dev/null
  fi
}

# What holds the port, for a message: "pid N (command line)" per holder.
holders() {
  local pid found=""
  for pid in $(listeners); do
    echo "pid $pid ($(cmdline_of "$pid" || echo '?'))"
    found=yes
  done
  [[ -n $found ]] || echo "a process this user cannot see"
}

# answers PID: the health route answers, from the server with this pid.
answers() {
  local body
  body=$(curl -sf --max-time 2 --cacert "$ca_bundle" "$url$health" 2>/dev/null) || return 1
  [[ $body =~ \"pid\":\ *([0-9]+) && ${BASH_REMATCH[1]} == "$1" ]]
}

# wait_answers PID: wait (bounded) while our server PID lives but does not answer yet.
wait_answers() {
  local deadline=$((SECONDS + answer_wait))
  while ((SECONDS < deadline)); do
    answers "$1" && return 0
    ours "$1" || return 1
    sleep 0.2
  done
  answers "$1"
}

# --- commands ------------------------------------------------------------------

ensure_tls() {
  [[ -f $ca_bundle && -f $tls/server.pem && -f $tls/server.key ]] && return 0
  mkdir -p "$tls"
  echo "emulator: creating a local CA and server certificate in $tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=student-management emulator CA" \
    -keyout "$tls/ca.key" -out "$ca_bundle" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$ca_bundle" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 3650 -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null
  chmod 600 "$tls/ca.key" "$tls/server.key"
}

discard_state() {
  rm -f "$pidfile" "$state_dir"/moto.log "$state_dir"/*.tfstate "$state_dir"/*.tfstate.backup
}

# Start and stop of one state directory run one at a time: two `make up`s at
# once would otherwise both start a server, and one would lose.
lock() {
  mkdir -p "$state_dir"
  exec 9>"$state_dir/.lock"
  flock -w 120 9 || {
    echo "emulator: another start or stop of $state_dir is still running" >&2
    exit 1
  }
}

start() {
  lock
  local pid
  pid=$(our_pids "" first)
  if [[ -n $pid ]]; then
    # Ours lives: its resources are in memory and the state describes them, so
    # both are kept, whatever it answers.
    if [[ ! -f $pidfile || $(<"$pidfile") != "$pid" ]]; then
      echo "emulator: found our server (pid $pid) without its pid file; keeping it"
      echo "$pid" >"$pidfile"
    fi
    if wait_answers "$pid"; then
      echo "emulator: already running at $url (pid $pid; state kept)"
      return 0
    fi
    if ours "$pid"; then
      echo "emulator: our server (pid $pid) runs but has not answered $url$health for ${answer_wait} s;" \
        "its state is kept. See $state_dir/moto.log; 'local/emulator.sh stop' (make down) stops it." >&2
      exit 1
    fi
    echo "emulator: our server (pid $pid) exited while starting; starting afresh"
  fi
  if port_held; then
    local other
    other=$(our_pids any-state first)
    if [[ -n $other ]]; then
      echo "emulator: port $port is held by this project's moto server with another state directory:" \
        "$(holders | paste -sd ';' -). Stop it with the settings that started it, or choose another port" \
        "with STUDENT_MGMT_EMULATOR_PORT." >&2
    else
      echo "emulator: port $port is held by $(holders | paste -sd ';' -), which this project did not start." \
        "Stop that process, or choose another port with STUDENT_MGMT_EMULATOR_PORT." >&2
    fi
    exit 1
  fi
  # No server of ours exists, so any state left from an earlier run describes
  # resources that no longer exist: start from scratch (the certificates stay).
  discard_state
  ensure_tls
  echo "emulator: starting moto server at $url (log: $state_dir/moto.log)"
  # The lock's descriptor is not passed on: the server outlives this script.
  nohup "$python" -m "$server" -H 127.0.0.1 -p "$port" --ssl-cert "$tls/server.pem" --ssl-key "$tls/server.key" \
    >"$state_dir/moto.log" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$pidfile"
  if wait_answers "$pid"; then
    echo "emulator: ready (pid $pid)"
    return 0
  fi
  if ours "$pid"; then
    echo "emulator: no answer from $url after ${answer_wait} s; see $state_dir/moto.log" >&2
  else
    echo "emulator: moto server exited; last log lines:" >&2
    tail -n 20 "$state_dir/moto.log" >&2
  fi
  exit 1
}

# running PID: the process exists and is not a zombie.
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != [ZX] ]]
}

# signal_and_wait SIGNAL SECONDS PID...: send SIGNAL, wait until none of the
# PIDs is running any more (gone or a zombie); fails if one still is.
signal_and_wait() {
  local signal=$1 deadline=$((SECONDS + $2)) pid alive
  shift 2
  kill "-$signal" "$@" 2>/dev/null || true
  while :; do
    alive=""
    for pid in "$@"; do
      # Gone once the process is: an exiting server's command line already reads empty (so it no longer
      # looks like ours) while it still holds its port. A zombie nobody reaped is gone.
      if running "$pid"; then alive+=" $pid"; fi
    done
    [[ -n $alive ]] || return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# Listeners on the port other than the given pids (ours, just stopped).
others_listening() {
  local pid
  for pid in $(listeners); do
    [[ " $* " == *" $pid "* ]] || echo "$pid"
  done
}

stop() {
  lock
  local -a pids
  # Any state directory: a server of this project on this port is stopped even
  # when it was started with other settings (and its pid file is elsewhere).
  mapfile -t pids < <(our_pids any-state)
  if ((${#pids[@]})); then
    if ! signal_and_wait TERM "$stop_grace" "${pids[@]}"; then
      echo "emulator: pid ${pids[*]} still running ${stop_grace} s after SIGTERM; sending SIGKILL"
      if ! signal_and_wait KILL 5 "${pids[@]}"; then
        echo "emulator: pid ${pids[*]} survived SIGKILL; state kept" >&2
        exit 1
      fi
    fi
    # The port is free once the kernel has dropped the listening socket (bounded).
    local deadline=$((SECONDS + 5))
    while port_held && [[ -z $(others_listening "${pids[@]}") ]] && ((SECONDS < deadline)); do sleep 0.1; done
    echo "emulator: stopped ($url, pid ${pids[*]}); its resources are gone"
  else
    echo "emulator: not running at $url"
  fi
  if port_held; then
    # Not ours: neither is any state it has to discard.
    echo "emulator: port $port is held by $(holders | paste -sd ';' -), which this project did not start;" \
      "leaving it" >&2
    exit 1
  fi
  discard_state
}

status() {
  local pid
  pid=$(our_pids "" first)
  if [[ -n $pid ]] && answers "$pid"; then
    echo "emulator: running at $url (pid $pid)"
  elif [[ -n $pid ]]; then
    echo "emulator: our server (pid $pid) runs but does not answer at $url (yet)"
    exit 1
  elif port_held; then
    echo "emulator: not running at $url; port $port is held by $(holders | paste -sd ';' -)"
    exit 1
  else
    echo "emulator: not running at $url"
    exit 1
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
