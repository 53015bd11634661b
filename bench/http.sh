# Shared by the bench/ scripts that put a gunicorn under wrk (pages.sh, api.sh, throughput.sh): a free port,
# waiting for the server, and reading the answers saved with curl. Sourced after common.sh.

# A port nobody uses now, so that a benchmark never collides with a `make run` on 8000.
free_port() {
  .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_server BASE LOG: until the server started as SERVER_PID answers, or stop the script with its log
# if it died or never answered.
wait_for_server() {
  local base="$1" server_log="$2"
  for _ in $(seq 150); do
    curl -s -o /dev/null "$base/robots.txt" && return 0
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "gunicorn stopped at start-up:"; cat "$server_log" >&2; exit 1
    fi
    sleep 0.2
  done
  log "gunicorn does not answer on $base"; exit 1
}

# wrk's version, for the report's machine lines.
wrk_version() { wrk -v 2>&1 | head -n 1 | sed 's/ \[.*//'; }

header() { # header NAME FILE: the value of a response header, or nothing
  awk -v name="$1" '{ sub(/\r$/, "") }
    tolower(substr($0, 1, length(name) + 1)) == tolower(name) ":" { sub(/^[^:]*:[ \t]*/, ""); print; exit }' "$2"
}

# answer_headers FILE [NAMES]: the status line and every header but those the server sets itself (and the
# NAMES, as "a|b"), in order: what two ways of answering must share.
answer_headers() {
  tr -d '\r' <"$1" | grep -viE "^(date|server|connection|transfer-encoding|keep-alive${2:+|$2}):" | grep -v '^$'
}
