#!/usr/bin/env bash
# Speed of indicator refreshes run by real Celery workers: refreshes per second completed by one worker
# process (`celery worker --concurrency 1 --pool prefork`) and by two (`--concurrency 2`), over
# BENCH_COUNT JSON indicators that read a fast local source (bench/refresh_source.py), in PostgreSQL, with
# Redis as the broker. Two passes per run: the first reading of every indicator (each records a new value)
# and a second one (the source gives the same figure: "unchanged").
#
#   bash bench/refresh.sh                                      # 10,000 indicators, 3 runs: about an hour
#   BENCH_RUNS=1 BENCH_COUNT=1000 bash bench/refresh.sh        # a few minutes
#   BENCH_WORKERS="2" BENCH_PASSES="first" bash bench/refresh.sh
#   BENCH_RESULTS=/tmp/refresh.jsonl bash bench/refresh.sh    # also keep each pass's figures, as JSON
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, no password) and Redis on 127.0.0.1:6379. The script
# drops and creates the databases opengov_bench_refresh (the template each run is copied from) and
# opengov_bench_refresh_run, and flushes Redis database 14: nothing else is touched. Sources are read on
# 127.0.0.1 only. Every process it starts (the source, the workers, its helpers) is stopped on exit, also on
# Ctrl-C, and the databases are dropped. Prints a markdown report (see docs/benchmarks.md); exits non-zero
# if a pass did not end with one refresh per indicator, all with the expected outcome.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT="${BENCH_COUNT:-10000}"
RUNS="${BENCH_RUNS:-3}"
WORKERS="${BENCH_WORKERS:-1 2}"          # values of --concurrency, one configuration each
PASSES="${BENCH_PASSES:-first second}"   # first: every indicator read for the first time; second: read again
PG="postgres://postgres@127.0.0.1:5432"
TEMPLATE_DB=opengov_bench_refresh
RUN_DB=opengov_bench_refresh_run
REDIS_DB=14

log() { printf '%s\n' "$*" >&2; }
source bench/machine.sh
export PGOPTIONS="-c client_min_messages=warning"  # no NOTICE for a database that is not there to drop
psql_admin() { psql "$PG/postgres" -v ON_ERROR_STOP=1 -qAtc "$1" >/dev/null; }

if [ ! -x .venv/bin/celery ]; then
  log "Creating .venv (make install)..."
  make install
fi
command -v psql >/dev/null || { log "psql is needed (Debian package postgresql-client)"; exit 1; }
command -v redis-cli >/dev/null || { log "redis-cli is needed (Debian package redis-tools)"; exit 1; }

# --- A throw-away instance, and every process stopped on exit -----------------------------------

WORK="$(mktemp -d)"
SOURCE_PID=""
WORKER_PID=""
WORKER_CHILDREN=""
HELPER_PID=""

stop_pid() { # stop_pid PID: TERM, up to 15 s to finish, then KILL
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_worker() {
  [ -n "$WORKER_PID" ] || return 0
  WORKER_CHILDREN="$(pgrep -P "$WORKER_PID" | tr '\n' ' ' || true)"
  stop_pid "$WORKER_PID"
  # The pool processes stop with their parent; one left behind is stopped by its own id.
  local child
  for child in $WORKER_CHILDREN; do
    kill -0 "$child" 2>/dev/null && kill -KILL "$child" 2>/dev/null || true
  done
  WORKER_PID=""; WORKER_CHILDREN=""
}

cleanup() {
  stop_pid "$HELPER_PID"
  stop_worker
  stop_pid "$SOURCE_PID"
  psql_admin "DROP DATABASE IF EXISTS $RUN_DB WITH (FORCE)" 2>/dev/null || true
  psql_admin "DROP DATABASE IF EXISTS $TEMPLATE_DB WITH (FORCE)" 2>/dev/null || true
  redis-cli -h 127.0.0.1 -n "$REDIS_DB" FLUSHDB >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# As the other benchmarks (bench/common.sh): production-like settings, DEBUG off with a throw-away key, no
# .env read. LOG_LEVEL=WARNING: a refresh that fails still logs a line, one that succeeds does not.
: >"$WORK/empty.env"
export ENV_FILE="$WORK/empty.env"
export DEBUG=false
export SECRET_KEY="bench-only-$(date +%s)-$RANDOM$RANDOM"
export DATABASE_URL="$PG/$RUN_DB"
export REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
export INDICATOR_SOURCES_ALLOWED_NETWORKS=127.0.0.0/8   # the local source is on the loopback
export LOG_LEVEL=WARNING

py() { .venv/bin/python bench/refresh_setup.py "$@"; }
# A helper that may run for minutes, in the background, so that Ctrl-C or a kill stops it at once.
helper() {
  .venv/bin/python bench/refresh_setup.py "$@" &
  HELPER_PID=$!
  local rc=0
  wait "$HELPER_PID" || rc=$?
  HELPER_PID=""
  return "$rc"
}

pg_isready -q -h 127.0.0.1 -p 5432 || { log "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1; }
redis-cli -h 127.0.0.1 ping >/dev/null || { log "Redis does not answer on 127.0.0.1:6379"; exit 1; }
redis-cli -h 127.0.0.1 -n "$REDIS_DB" FLUSHDB >/dev/null

# --- The source ------------------------------------------------------------------------------------

.venv/bin/python bench/refresh_source.py "$WORK/source.port" 2>"$WORK/source.log" &
SOURCE_PID=$!
for _ in $(seq 50); do [ -s "$WORK/source.port" ] && break; sleep 0.1; done
[ -s "$WORK/source.port" ] || { log "The source did not start:"; cat "$WORK/source.log" >&2; exit 1; }
SOURCE="http://127.0.0.1:$(cat "$WORK/source.port")"

# --- The template database: reference data and COUNT indicators ------------------------------------

log "Building $TEMPLATE_DB (migrate, load_reference_data, $COUNT indicators)..."
psql_admin "DROP DATABASE IF EXISTS $RUN_DB WITH (FORCE)"
psql_admin "DROP DATABASE IF EXISTS $TEMPLATE_DB WITH (FORCE)"
psql_admin "CREATE DATABASE $TEMPLATE_DB"
setup() { DATABASE_URL="$PG/$TEMPLATE_DB" "$@" >>"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; exit 1; }; }
setup .venv/bin/python manage.py migrate --noinput
setup .venv/bin/python manage.py load_reference_data
populated="$(DATABASE_URL="$PG/$TEMPLATE_DB" py populate "$COUNT" "$SOURCE")"
psql "$PG/$TEMPLATE_DB" -v ON_ERROR_STOP=1 -qc "VACUUM ANALYZE" >/dev/null

# The parts alone: the source read with the refreshes' own reader, and a database connection opened.
psql_admin "CREATE DATABASE $RUN_DB TEMPLATE $TEMPLATE_DB"
probe="$(py probe "$SOURCE/indicators/1")"
field() { printf '%s' "$1" | .venv/bin/python -c "import json, sys; print(json.load(sys.stdin)[sys.argv[1]])" "$2"; }

# --- The machine -------------------------------------------------------------------------------------

ram_gb="$(awk '/^MemTotal/ { printf "%.0f", $2 / 1024 / 1024 }' /proc/meminfo)"
versions="$(.venv/bin/python -c 'import sys, django, celery, kombu, psycopg2; print(sys.version.split()[0], django.get_version(), celery.__version__, kombu.__version__, psycopg2.__version__.split()[0])')"
read -r py_version django_version celery_version kombu_version psycopg_version <<<"$versions"
pg_version="$(psql "$PG/postgres" -qAtc 'SHOW server_version' | cut -d' ' -f1)"
redis_version="$(redis-cli -h 127.0.0.1 info server | tr -d '\r' | sed -n 's/^redis_version://p')"

machine_header
echo "- RAM: $ram_gb GB"
echo "- Python $py_version, Django $django_version, Celery $celery_version, kombu $kombu_version, psycopg2 $psycopg_version"
echo "- PostgreSQL $pg_version, Redis $redis_version; the source, PostgreSQL, Redis and the workers share these CPUs"
echo "- load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- data: $(field "$populated" indicators) JSON indicators over $(field "$populated" commitments) commitments ($(field "$populated" per_commitment) each)"
echo "- the source alone, read with indicators.fetch: $(field "$probe" fetch_ms) ms a reading one after the other, $(field "$probe" fetch_per_second_2_processes) readings/s from 2 processes"
echo "- a PostgreSQL connection opened and closed (what a worker did around every task before CELERY_DB_REUSE_MAX): $(field "$probe" connect_ms) ms"
echo "- refresh_indicator in one process, no Celery, first readings: $(field "$probe" refresh_new_connection_ms) ms (median) and $(field "$probe" refresh_new_connection_pg_cpu_ms) ms of PostgreSQL CPU on a new connection each (the workers before CELERY_DB_REUSE_MAX); $(field "$probe" refresh_same_connection_ms) ms and $(field "$probe" refresh_same_connection_pg_cpu_ms) ms on one kept open"
echo

# --- The runs --------------------------------------------------------------------------------------------

start_worker() { # start_worker CONCURRENCY
  .venv/bin/celery -A opengov worker --concurrency "$1" --pool prefork -n "bench-refresh-$$@%h" \
    --loglevel WARNING >>"$WORK/worker.log" 2>&1 &
  WORKER_PID=$!
}

# One line of JSON per pass; BENCH_RESULTS keeps them in a file of your choice.
RESULTS="${BENCH_RESULTS:-$WORK/results.jsonl}"
: >"$RESULTS"
for workers in $WORKERS; do
  for run in $(seq "$RUNS"); do
    # Each run starts from the same database: the template, copied.
    psql_admin "DROP DATABASE IF EXISTS $RUN_DB WITH (FORCE)"
    psql_admin "CREATE DATABASE $RUN_DB TEMPLATE $TEMPLATE_DB"
    redis-cli -h 127.0.0.1 -n "$REDIS_DB" FLUSHDB >/dev/null
    for pass in $PASSES; do
      load="$(cut -d' ' -f1 /proc/loadavg)"
      # The refresh log of the pass before is set aside, so that each pass counts its own refreshes.
      psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qc "TRUNCATE indicators_indicatorrefresh" >/dev/null
      # Everything queued before the worker starts, so that queuing does not share the CPUs with it.
      queued="$(py queue)"
      log "$workers worker(s), run $run of $RUNS, $pass pass: $COUNT refreshes queued in $(field "$queued" seconds) s (load $load)..."
      start_worker "$workers"
      helper wait "$COUNT" "$WORK/wait.json" "$WORKER_PID" "$SOURCE_PID" || {
        log "The pass did not finish; the worker's log:"; tail -n 40 "$WORK/worker.log" >&2; exit 1
      }
      stop_worker
      report="$(py report "$workers" "$WORK/wait.json")"
      printf '%s' "$report" | .venv/bin/python -c '
import json, sys
r = json.load(sys.stdin)
r.update(workers=int(sys.argv[1]), run=int(sys.argv[2]), load=sys.argv[4], queue_seconds=float(sys.argv[5]))
r["pass"] = sys.argv[3]
print(json.dumps(r))' "$workers" "$run" "$pass" "$load" "$(field "$queued" seconds)" >>"$RESULTS"
      log "  $(field "$report" rate) refreshes/s, median $(field "$report" median_ms) ms, outcomes $(field "$report" outcomes)"
    done
  done
done

echo "## Results"
echo
table_rc=0
.venv/bin/python bench/refresh_setup.py table "$RESULTS" "$COUNT" || table_rc=$?
# Celery's own errors, and the line refresh.py logs for each failed refresh.
if grep -Eq 'ERROR|CRITICAL|Traceback|refresh failed' "$WORK/worker.log"; then
  echo "The workers' log has errors:"
  echo
  grep -E -m 10 'ERROR|CRITICAL|Traceback|refresh failed' "$WORK/worker.log" | sed 's/^/    /'
  echo
fi
[ "$table_rc" = 0 ] || exit "$table_rc"
echo "All checks passed."
