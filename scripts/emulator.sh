#!/usr/bin/env bash
# The local AWS emulator: moto server on a loopback port.
#
#   scripts/emulator.sh start   start it unless it already answers (idempotent)
#   scripts/emulator.sh stop    stop it; its resources and state are gone
#   scripts/emulator.sh status  exit 0 when it answers
#
# Its port and state directory are the configuration's emulator_port (default
# 4566) and emulator_state_dir (default .emulator), read through
# modules/config.py exactly as the synthesized Terraform reads them (so
# STUDENT_MGMT_EMULATOR_PORT and config.toml apply). The state directory holds moto.log, moto.pid
# and the bootstrap stack's local Terraform state: moto keeps everything in
# memory, so a fresh start discards that state with it.
#
# The emulator speaks HTTPS only, with a certificate from a local CA made on
# first start (tls/ca.pem, kept across restarts). The buckets' TLS-only
# policies then hold locally exactly as in AWS, and clients verify the
# endpoint instead of skipping verification.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${EMULATOR_PYTHON:-$root/.venv/bin/python}
if [[ ! -x $python ]]; then
  echo "emulator: $python not found; run 'make setup' first" >&2
  exit 1
fi
port=$("$python" "$root/scripts/config_get.py" emulator_port)
state_dir=$("$python" "$root/scripts/config_get.py" emulator_state_dir)
url=https://127.0.0.1:$port
tls=$state_dir/tls

answers() { curl -sf -o /dev/null --max-time 2 --cacert "$tls/ca.pem" "$url/moto-api/data.json"; }

ensure_tls() {
  [[ -f $tls/ca.pem && -f $tls/server.pem && -f $tls/server.key ]] && return 0
  mkdir -p "$tls"
  echo "emulator: creating a local CA and server certificate in $tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=student-management emulator CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 3650 -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null
  chmod 600 "$tls/ca.key" "$tls/server.key"
}

start() {
  if answers; then
    echo "emulator: already running at $url (state kept)"
    return 0
  fi
  # Nothing answers, so any state left from an earlier run describes resources
  # that no longer exist: start from scratch (the certificates stay).
  discard_state
  mkdir -p "$state_dir"
  ensure_tls
  echo "emulator: starting moto server at $url (log: $state_dir/moto.log)"
  nohup "$python" "$root/scripts/moto_server.py" -H 127.0.0.1 -p "$port" --ssl-cert "$tls/server.pem" --ssl-key "$tls/server.key" \
    >"$state_dir/moto.log" 2>&1 </dev/null &
  echo $! >"$state_dir/moto.pid"
  for _ in $(seq 1 150); do
    if answers; then
      echo "emulator: ready"
      return 0
    fi
    if ! kill -0 "$(cat "$state_dir/moto.pid")" 2>/dev/null; then
      echo "emulator: moto server exited; last log lines:" >&2
      tail -n 20 "$state_dir/moto.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "emulator: no answer from $url after 30 s; see $state_dir/moto.log" >&2
  exit 1
}

discard_state() {
  rm -f "$state_dir"/moto.pid "$state_dir"/moto.log "$state_dir"/*.tfstate "$state_dir"/*.tfstate.backup
}

stop() {
  local pidfile=$state_dir/moto.pid
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 50); do
      kill -0 "$(cat "$pidfile")" 2>/dev/null || break
      sleep 0.1
    done
    echo "emulator: stopped ($url); its resources are gone"
  elif answers; then
    echo "emulator: something answers at $url but was not started here (no $pidfile); leaving it" >&2
    exit 1
  else
    echo "emulator: not running"
  fi
  discard_state
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) answers && echo "emulator: running at $url" || { echo "emulator: not running at $url"; exit 1; } ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
