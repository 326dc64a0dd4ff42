#!/usr/bin/env bash
# Start, stop and check a real single-node Elasticsearch 9 on loopback, without Docker.
#
#   infra/elasticsearch.sh up|down|status|health
#
# The server is the official distribution published on Maven Central as
# org.elasticsearch.distribution.integ-test-zip:elasticsearch (the server core: no analysis-common,
# percolator or ingest-common modules), fetched with Maven so the machine's own repository
# configuration applies. It needs Java 21+, refuses to run as root (so as root it runs as the
# unprivileged user "newswatch"), and its heap is capped.
#
# When NEWSWATCH_ES_URL points at a cluster, nothing is started: `up` only checks its health.
# Settings (environment): NEWSWATCH_ES_URL, NEWSWATCH_ES_VERSION, NEWSWATCH_ES_PORT, NEWSWATCH_ES_HEAP,
# NEWSWATCH_ES_HOME (where the server and its data live), NEWSWATCH_ES_JAVA_HOME,
# NEWSWATCH_ES_SECURITY (true: basic auth, the elastic user's password in `home`/elastic-password),
# NEWSWATCH_ES_TLS (true: HTTPS too, with a CA made here; `ca` prints its path).
set -euo pipefail

VERSION="${NEWSWATCH_ES_VERSION:-9.3.2}"
PORT="${NEWSWATCH_ES_PORT:-9200}"
HEAP="${NEWSWATCH_ES_HEAP:-1g}"
SECURITY="${NEWSWATCH_ES_SECURITY:-false}"
TLS="${NEWSWATCH_ES_TLS:-false}"  # HTTPS with a CA generated here (implies security)
[ "$TLS" = true ] && SECURITY=true
RUN_USER=newswatch
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/newswatch"
if [ "$(id -u)" = 0 ]; then default_home=/var/lib/newswatch; else default_home="$CACHE"; fi
BASE="${NEWSWATCH_ES_HOME:-$default_home}/es-$VERSION-$PORT"
ES_DIR="$BASE/elasticsearch-$VERSION"
PID_FILE="$BASE/es.pid"
LOG_FILE="$BASE/es.out"
SCHEME=http; [ "$TLS" = true ] && SCHEME=https
URL="${NEWSWATCH_ES_URL:-$SCHEME://127.0.0.1:$PORT}"

say() { printf 'newswatch-es: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

java_home() {
  # The first JDK whose major version is 21 or more: the setting, then ES_JAVA_HOME, then /usr/lib/jvm.
  local c major
  for c in "${NEWSWATCH_ES_JAVA_HOME:-}" "${ES_JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] || continue
    major=$("$c/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
    if [ "${major%%.*}" -ge 21 ] 2>/dev/null; then echo "$c"; return 0; fi
  done
  return 1
}

health() {
  # Prints the cluster status (green/yellow/red) or fails when the server does not answer.
  local auth=()
  if [ -z "${NEWSWATCH_ES_URL:-}" ]; then
    [ "$SECURITY" = true ] && [ -f "$BASE/elastic-password" ] && auth+=(-u "elastic:$(cat "$BASE/elastic-password")")
    [ "$TLS" = true ] && auth+=(--cacert "$ES_DIR/config/certs/ca.crt")
  fi
  curl -fsS --max-time 5 "${auth[@]}" "$URL/_cluster/health" 2>/dev/null \
    | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p' | grep -E '^(green|yellow|red)$'
}

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid; pid=$(cat "$PID_FILE")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

fetch() {
  [ -d "$ES_DIR" ] && return 0
  local zip="$CACHE/elasticsearch-$VERSION.zip"
  mkdir -p "$CACHE" "$BASE"
  if [ ! -f "$zip" ]; then
    command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch Elasticsearch $VERSION from Maven Central"
    say "fetching Elasticsearch $VERSION (integ-test-zip) with Maven"
    mvn -q -B dependency:copy -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$VERSION:zip" \
      -DoutputDirectory="$CACHE" >/dev/null || die "could not fetch org.elasticsearch.distribution.integ-test-zip:elasticsearch:$VERSION"
  fi
  unzip -q -o "$zip" -d "$BASE"
}

configure() {
  cat > "$ES_DIR/config/elasticsearch.yml" <<YML
cluster.name: newswatch
node.name: newswatch-1
network.host: 127.0.0.1
http.port: $PORT
transport.port: $((PORT + 100))
discovery.type: single-node
path.data: $BASE/data
path.logs: $BASE/logs
xpack.security.enabled: $SECURITY
action.destructive_requires_name: false
cluster.routing.allocation.disk.threshold_enabled: false
YML
  cat > "$ES_DIR/config/roles.yml" <<YML
# File-realm role for newswatch (the integ-test distribution has no analysis-common module, so the
# native realm's .security index, and with it API keys and API-created users, cannot exist there).
newswatch_writer:
  cluster: [monitor, manage_index_templates]
  indices:
    - names: ["newswatch-*", "nw*"]
      privileges: [all]
YML
  if [ "$TLS" = true ]; then
    make_certs
    cat >> "$ES_DIR/config/elasticsearch.yml" <<YML
xpack.security.http.ssl.enabled: true
xpack.security.http.ssl.key: certs/node.key
xpack.security.http.ssl.certificate: certs/node.crt
xpack.security.http.ssl.certificate_authorities: [certs/ca.crt]
YML
  fi
  printf -- '-Xms%s\n-Xmx%s\n' "$HEAP" "$HEAP" > "$ES_DIR/config/jvm.options.d/heap.options"
  mkdir -p "$BASE/data" "$BASE/logs"
}

as_run_user() {
  if [ "$(id -u)" = 0 ]; then
    id "$RUN_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
    chown -R "$RUN_USER" "$BASE"
    # Every parent must be traversable by the unprivileged user.
    local d="$BASE"; while [ "$d" != / ]; do d=$(dirname "$d"); chmod o+x "$d" 2>/dev/null || true; done
    runuser -u "$RUN_USER" -- "$@"
  else
    "$@"
  fi
}

make_certs() {
  # A private CA and a certificate for 127.0.0.1/localhost; clients verify against ca.crt.
  local d="$ES_DIR/config/certs"  # Elasticsearch only reads TLS files under its config directory
  [ -f "$d/node.crt" ] && return 0
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=newswatch test CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/node.key" -out "$d/node.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$d/san.ext"
  openssl x509 -req -in "$d/node.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
    -extfile "$d/san.ext" -out "$d/node.crt" 2>/dev/null
  chmod 644 "$d/ca.crt" "$d/node.crt"
}

set_password() {
  # With security on, the elastic user's password is generated once and kept beside the data.
  local pw_file="$BASE/elastic-password"
  [ -f "$pw_file" ] && return 0
  head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20 > "$pw_file"
  chmod 600 "$pw_file"
  as_run_user env ES_JAVA_HOME="$JAVA" "$ES_DIR/bin/elasticsearch-keystore" create -s >/dev/null 2>&1 || true
  as_run_user env ES_JAVA_HOME="$JAVA" sh -c "'$ES_DIR/bin/elasticsearch-keystore' add -x -f bootstrap.password < '$pw_file'"
}

wait_healthy() {
  local i status
  for i in $(seq 1 120); do
    if status=$(health); then say "Elasticsearch $VERSION is up at $URL ($status)"; return 0; fi
    if ! running_pid >/dev/null; then tail -n 30 "$LOG_FILE" >&2 || true; die "Elasticsearch exited while starting; log: $LOG_FILE"; fi
    sleep 1
  done
  tail -n 30 "$LOG_FILE" >&2 || true
  die "Elasticsearch did not become healthy at $URL within 120 s; log: $LOG_FILE"
}

up() {
  if [ -n "${NEWSWATCH_ES_URL:-}" ]; then
    status=$(health) || die "Elasticsearch at $NEWSWATCH_ES_URL does not answer (NEWSWATCH_ES_URL is set, so nothing is started)"
    say "using the existing cluster at $NEWSWATCH_ES_URL ($status)"; return 0
  fi
  if running_pid >/dev/null && health >/dev/null; then say "already running at $URL"; return 0; fi
  if health >/dev/null; then die "port $PORT already answers as Elasticsearch but was not started here; set NEWSWATCH_ES_URL=$URL to use it"; fi
  JAVA=$(java_home) || die "Elasticsearch $VERSION needs Java 21 or newer; set NEWSWATCH_ES_JAVA_HOME"
  fetch
  configure
  [ "$SECURITY" = true ] && set_password
  : > "$LOG_FILE"; chmod 666 "$LOG_FILE"
  say "starting Elasticsearch $VERSION on $URL (Java: $JAVA, heap $HEAP)"
  as_run_user env ES_JAVA_HOME="$JAVA" "$ES_DIR/bin/elasticsearch" -d -p "$PID_FILE" >>"$LOG_FILE" 2>&1 \
    || { tail -n 30 "$LOG_FILE" >&2; die "Elasticsearch failed to start; log: $LOG_FILE"; }
  wait_healthy
}

down() {
  [ -n "${NEWSWATCH_ES_URL:-}" ] && { say "NEWSWATCH_ES_URL is set: the cluster there is not ours to stop"; return 0; }
  local pid
  if ! pid=$(running_pid); then say "not running"; return 0; fi
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || { say "stopped"; rm -f "$PID_FILE"; return 0; }; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true; rm -f "$PID_FILE"; say "killed after 60 s"
}

add_user() {
  # A file-realm user with the newswatch_writer role; the password comes from NEWSWATCH_ES_NEW_PASSWORD.
  local user="${1:?usage: add-user NAME (password in NEWSWATCH_ES_NEW_PASSWORD)}"
  [ -n "${NEWSWATCH_ES_NEW_PASSWORD:-}" ] || die "set NEWSWATCH_ES_NEW_PASSWORD"
  JAVA=$(java_home) || die "needs Java 21 or newer"
  as_run_user env ES_JAVA_HOME="$JAVA" "$ES_DIR/bin/elasticsearch-users" userdel "$user" >/dev/null 2>&1 || true
  as_run_user env ES_JAVA_HOME="$JAVA" "$ES_DIR/bin/elasticsearch-users" useradd "$user" -p "$NEWSWATCH_ES_NEW_PASSWORD" -r newswatch_writer
  local curl_tls=(); [ "$TLS" = true ] && curl_tls=(--cacert "$ES_DIR/config/certs/ca.crt")
  for _ in $(seq 1 30); do  # the file realm reloads within seconds
    curl -fsS --max-time 3 "${curl_tls[@]}" -u "$user:$NEWSWATCH_ES_NEW_PASSWORD" "$URL/_security/_authenticate" >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "user $user was added but cannot authenticate at $URL"
}

status() {
  local s
  if s=$(health); then echo "Elasticsearch at $URL: $s"; else echo "Elasticsearch at $URL: down"; return 1; fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  health) health ;;
  url) echo "$URL" ;;
  home) echo "$BASE" ;;
  ca) echo "$ES_DIR/config/certs/ca.crt" ;;
  add-user) shift; add_user "$@" ;;
  *) echo "usage: $0 up|down|status|health|url|home|ca|add-user NAME" >&2; exit 2 ;;
esac
