# Shared by the bench/ scripts: a throw-away instance of the project that stops and disappears with the script,
# in the project's own virtualenv. Sourced after HOST is set, from the repository root. The scripts that load a
# server with wrk source bench/common.sh, which adds their tools.

log() { printf '%s\n' "$*" >&2; }
source "$(dirname "${BASH_SOURCE[0]}")/machine.sh"

# The project's own virtualenv, so that the versions measured are the pinned ones.
if [ ! -x .venv/bin/python ]; then
  log "Creating .venv (make install)..."
  make install
fi

# --- A throw-away instance ---------------------------------------------------------------------

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  # Always stop the server we started (by its pid, nothing else) and remove its files.
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# Ctrl-C or a kill still goes through the EXIT trap above.
trap 'exit 130' INT
trap 'exit 143' TERM

# Production-like settings: DEBUG off, as a deployment runs, and nothing read from a developer's
# .env (ENV_FILE points to an empty file). REDIS_URL is cleared so that the cache is local memory
# and no outside service is involved, as on the embedded default the README describes.
: >"$WORK/empty.env"
export ENV_FILE="$WORK/empty.env"
export DEBUG=false
export SECRET_KEY="bench-only-$(date +%s)-$RANDOM$RANDOM"
export ALLOWED_HOSTS="$HOST"
export DATABASE_URL="sqlite:///$WORK/db.sqlite3"   # $WORK is absolute: sqlite:////tmp/...
export STATIC_ROOT="$WORK/static"
export REDIS_URL=""
export LOG_LEVEL=WARNING
# Plain HTTP on the loopback, as gunicorn is reached behind the TLS proxy: no redirect to HTTPS.
export SECURE_SSL_REDIRECT=false
