#!/usr/bin/env bash
# Start, stop and check a Dask cluster on loopback for `runner = "dask"`: one `dask scheduler` and N
# `dask worker` processes, each a separate process as if on separate machines, all from this checkout's
# .venv (the editable install, so workers import this checkout's code).
#
#   infra/dask.sh up|down|status|address
#
# `up` restarts the workers when the code changed since they started (workers keep imported modules).
# When NEWSWATCH_DASK_ADDRESS points at a cluster, nothing is started or stopped: `up` and `status`
# only check that its scheduler answers.
# Settings (environment): NEWSWATCH_DASK_ADDRESS, NEWSWATCH_DASK_PORT (8786), NEWSWATCH_DASK_WORKERS (2),
# NEWSWATCH_DASK_THREADS (threads per worker, 1), NEWSWATCH_DASK_DASHBOARD (a port; empty: no dashboard),
# NEWSWATCH_DASK_HOME (pid files, logs, worker scratch; .newswatch/dask-PORT).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT="${NEWSWATCH_DASK_PORT:-8786}"
WORKERS="${NEWSWATCH_DASK_WORKERS:-2}"
THREADS="${NEWSWATCH_DASK_THREADS:-1}"
DASHBOARD="${NEWSWATCH_DASK_DASHBOARD:-}"
HOME_DIR="${NEWSWATCH_DASK_HOME:-$ROOT/.newswatch/dask-$PORT}"
BIN="${NEWSWATCH_DASK_BIN:-$ROOT/.venv/bin}"
ADDRESS="${NEWSWATCH_DASK_ADDRESS:-tcp://127.0.0.1:$PORT}"
EXTERNAL="${NEWSWATCH_DASK_ADDRESS:+yes}"
cd "$ROOT"  # processes start here, so relative paths mean the same to workers as to `newswatch`

say() { printf 'newswatch-dask: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# How many workers the scheduler at $ADDRESS has, waiting up to $1 s for at least $2 of them.
workers_at() {
  "$BIN/python" - "$ADDRESS" "$1" "$2" <<'EOF'
import sys, logging
logging.disable(logging.CRITICAL)
from distributed import Client
address, wait_s, want = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
try:
    with Client(address, timeout=min(wait_s, 10) or 3) as client:
        if want:
            client.wait_for_workers(want, timeout=wait_s)
        print(len(client.scheduler_info(n_workers=-1)["workers"]))
except Exception as exc:
    print(f"no Dask scheduler answers at {address}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
    sys.exit(1)
EOF
}

# The code workers import: every Python file of the package folders, and the dependency pins.
code_version() {
  find newswatch flows pipelines -name '*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort | xargs cat pyproject.toml constraints.txt | sha256sum | cut -c1-16
}

start_scheduler() {
  local dash=(--no-dashboard)
  [ -n "$DASHBOARD" ] && dash=(--dashboard-address "127.0.0.1:$DASHBOARD")
  nohup "$BIN/dask" scheduler --host 127.0.0.1 --port "$PORT" "${dash[@]}" >"$HOME_DIR/scheduler.log" 2>&1 &
  echo $! >"$HOME_DIR/scheduler.pid"
}

start_workers() {
  local i
  for i in $(seq 1 "$WORKERS"); do
    mkdir -p "$HOME_DIR/worker-$i"
    nohup "$BIN/dask" worker "$ADDRESS" --host 127.0.0.1 --name "worker-$i" --nworkers 1 --nthreads "$THREADS" \
      --no-dashboard --local-directory "$HOME_DIR/worker-$i" >"$HOME_DIR/worker-$i.log" 2>&1 &
    echo $! >"$HOME_DIR/worker-$i.pid"
  done
  code_version >"$HOME_DIR/code-version"
}

stop_pid_file() {  # TERM, then KILL after 15 s; only processes this script started (their pid files)
  local f=$1 pid
  alive "$f" || { rm -f "$f"; return 0; }
  pid=$(cat "$f"); kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -f "$f"
}

stop_workers() {
  local f
  for f in "$HOME_DIR"/worker-*.pid; do [ -e "$f" ] && stop_pid_file "$f"; done
  rm -f "$HOME_DIR/code-version"
}

up() {
  if [ -n "$EXTERNAL" ]; then
    n=$(workers_at 10 0) || exit 1
    say "using the cluster at $ADDRESS ($n workers; NEWSWATCH_DASK_ADDRESS is set, nothing started)"; return
  fi
  mkdir -p "$HOME_DIR"
  if alive "$HOME_DIR/scheduler.pid"; then
    if [ "$(cat "$HOME_DIR/code-version" 2>/dev/null)" != "$(code_version)" ]; then
      say "code changed since the workers started: restarting them"; stop_workers
    fi
  else
    stop_workers
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      die "port $PORT is taken by a process not started from here: set NEWSWATCH_DASK_PORT, or NEWSWATCH_DASK_ADDRESS to use that cluster"
    fi
    start_scheduler
  fi
  local running=0 f
  for f in "$HOME_DIR"/worker-*.pid; do alive "$f" && running=$((running + 1)); done
  if [ "$running" -lt "$WORKERS" ]; then stop_workers; start_workers; fi
  if ! n=$(workers_at 120 "$WORKERS"); then
    tail -n 20 "$HOME_DIR"/*.log >&2 || true
    die "the cluster did not come up; logs in $HOME_DIR"
  fi
  say "scheduler at $ADDRESS with $n workers ($THREADS thread(s) each); logs in $HOME_DIR"
}

down() {
  if [ -n "$EXTERNAL" ]; then say "NEWSWATCH_DASK_ADDRESS is set: the cluster at $ADDRESS is not ours to stop"; return; fi
  if ! alive "$HOME_DIR/scheduler.pid" && ! ls "$HOME_DIR"/worker-*.pid >/dev/null 2>&1; then say "no dask cluster started from here on port $PORT"; return; fi
  stop_workers
  stop_pid_file "$HOME_DIR/scheduler.pid"
  say "dask cluster on port $PORT stopped"
}

status() {
  if n=$(workers_at 3 0); then echo "dask scheduler at $ADDRESS: up, $n workers"; else echo "dask scheduler at $ADDRESS: down"; exit 1; fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  address) echo "$ADDRESS" ;;
  *) echo "usage: $0 up|down|status|address" >&2; exit 2 ;;
esac
