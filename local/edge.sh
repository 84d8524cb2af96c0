#!/usr/bin/env bash
# The local edge: serves the site and the API from what is deployed in the emulator.
#
#   local/edge.sh start    (re)start it on the deployed configuration; waits until it answers
#   local/edge.sh stop     stop ours (also one whose pid file is lost)
#   local/edge.sh status   exit 0 when ours runs and answers
#
# The edge (python -m local.edge) reads the deployment from the
# emulator as it serves, so a rerun of `make up` needs no restart to follow a
# change; start restarts it anyway, so that a changed edge or a changed port
# takes effect. Its ports are the configuration's site_port and api_port; its
# pid file, output and request log live in the emulator's state directory
# (edge.pid, logs/edge.out, logs/edge.log). "Ours" is a process whose command
# line runs local.edge with this state directory's request log.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
python=$root/.venv/bin/python
[[ -x $python ]] || { echo "edge: $python not found; run 'make setup' first" >&2; exit 1; }
config=$(DEPLOY_TARGET=local "$python" -m pipeline.config_get emulator_state_dir site_port api_port api_stage_name)
{ read -r state_dir && read -r site_port && read -r api_port && read -r stage; } <<<"$config"
pidfile=$state_dir/edge.pid
log=$state_dir/logs/edge.log
out=$state_dir/logs/edge.out
health=http://127.0.0.1:$api_port/_edge/health
answer_wait=30
stop_grace=10

# ours PID: the process runs local.edge writing this state directory's request log.
ours() {
  local pid=$1 args
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  args=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $args == *" -m local.edge "* && $args == *" --log $log"* ]]
}

our_pids() {
  local candidate
  for candidate in /proc/[0-9]*; do
    ours "${candidate#/proc/}" && echo "${candidate#/proc/}"
  done
  return 0
}

answers() {
  curl -fsS --max-time 2 "$health" 2>/dev/null | grep -q "\"pid\": *$1\b"
}

stop() {
  local pids pid waited=0
  pids=$(our_pids)
  rm -f "$pidfile"
  [[ -n $pids ]] || return 0
  # shellcheck disable=SC2086 # one pid per word
  kill -TERM $pids 2>/dev/null || true
  for pid in $pids; do
    while kill -0 "$pid" 2>/dev/null && ours "$pid"; do
      if ((waited >= stop_grace * 10)); then
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
  done
  echo "edge: stopped (pid ${pids//$'\n'/, })"
}

start() {
  stop >/dev/null
  mkdir -p "$state_dir/logs"
  DEPLOY_TARGET=local nohup "$python" -m local.edge --log "$log" >>"$out" 2>&1 </dev/null &
  local pid=$! waited=0
  echo "$pid" >"$pidfile"
  until answers "$pid"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "edge: it stopped while starting; its output ($out):" >&2
      tail -n 20 "$out" >&2
      exit 1
    fi
    if ((waited >= answer_wait * 10)); then
      echo "edge: no answer from $health after ${answer_wait} s; its output: $out" >&2
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  echo "edge: site http://localhost:$site_port/ · api http://localhost:$api_port/$stage (pid $pid; request log: $log)"
}

status() {
  local pid
  for pid in $(our_pids); do
    if answers "$pid"; then
      echo "edge: running (pid $pid): site http://localhost:$site_port/ · api http://localhost:$api_port/$stage"
      return 0
    fi
  done
  echo "edge: not running"
  return 1
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
