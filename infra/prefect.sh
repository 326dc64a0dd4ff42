#!/usr/bin/env bash
# Start, stop and check the Prefect server (SQLite) that scheduled runs need.
#   infra/prefect.sh up|down|status
# One-off runs (`newswatch run --once`) do not need it: they use Prefect's ephemeral local API.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT="${NEWSWATCH_PREFECT_PORT:-4200}"
export PREFECT_HOME="${PREFECT_HOME:-$ROOT/.newswatch/prefect}"
PID_FILE="$PREFECT_HOME/server.pid"
LOG_FILE="$PREFECT_HOME/server.log"
URL="http://127.0.0.1:$PORT/api"
PREFECT="${PREFECT_BIN:-$ROOT/.venv/bin/prefect}"

healthy() { curl -fsS --max-time 3 "$URL/health" >/dev/null 2>&1; }

case "${1:-}" in
  up)
    if healthy; then echo "prefect server already up at $URL"; exit 0; fi
    mkdir -p "$PREFECT_HOME"
    nohup "$PREFECT" server start --host 127.0.0.1 --port "$PORT" >"$LOG_FILE" 2>&1 &
    echo $! > "$PID_FILE"
    for _ in $(seq 1 90); do
      if healthy; then echo "prefect server up at $URL (PREFECT_HOME=$PREFECT_HOME)"; exit 0; fi
      kill -0 "$(cat "$PID_FILE")" 2>/dev/null || { tail -n 20 "$LOG_FILE" >&2; echo "prefect server exited; log: $LOG_FILE" >&2; exit 1; }
      sleep 1
    done
    echo "prefect server not healthy after 90 s; log: $LOG_FILE" >&2; exit 1 ;;
  down)
    [ -f "$PID_FILE" ] && kill "$(cat "$PID_FILE")" 2>/dev/null && echo "prefect server stopped" || echo "prefect server not running"
    rm -f "$PID_FILE" ;;
  status)
    if healthy; then echo "prefect server at $URL: up"; else echo "prefect server at $URL: down"; exit 1; fi ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
