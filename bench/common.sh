# Shared by the bench/ scripts that load a server with wrk: the throw-away instance of bench/instance.sh,
# and their tools. Sourced after HOST is set, from the repository root.

# shellcheck source=bench/instance.sh
source "$(dirname "${BASH_SOURCE[0]}")/instance.sh"

# wrk comes from Debian; the package lists are only refreshed when the install fails without it.
if ! command -v wrk >/dev/null; then
  log "Installing wrk (Debian package)..."
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq wrk >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq wrk >/dev/null
  fi
fi

if [ ! -x .venv/bin/gunicorn ]; then
  log "Installing requirements.txt into .venv (gunicorn is missing)..."
  .venv/bin/python -m pip install --quiet -r requirements.txt
fi
