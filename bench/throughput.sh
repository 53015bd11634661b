#!/usr/bin/env bash
# Throughput near the server's limit (issue 9, point 4), as deployed: gunicorn with the project's
# gunicorn.conf.py, DEBUG off, Redis as the cache (and so the page cache), PostgreSQL, one access-log line
# per request at INFO. For the commitment list (the plan page), one commitment page and /api/v1/commitments/:
# requests per second and p50/p99 at 8 connections, beside the same gunicorn workers answering the same
# bytes from a static file (bench/static_wsgi.py); the bar is app ÷ static ≥ 0.5 with p99 < 50 ms. Then a
# journey: 50 readers drawing paths from a realistic mix (bench/journey.lua) for 60 s, with no error allowed.
# Every measurement runs with the page cache on (as deployed) and off (PAGE_CACHE_ENABLED=false, the
# "before"), for each number of workers, on a server started afresh for each configuration.
#
#   bash bench/throughput.sh                       # 2 and 5 workers: about 12 minutes
#   BENCH_WORKERS=2 bash bench/throughput.sh       # 2 workers only: about 6 minutes
#   BENCH_DURATION=2s BENCH_JOURNEY_DURATION=5s bash bench/throughput.sh   # a quick try of the script
#   BENCH_LOG_LEVEL=WARNING bash bench/throughput.sh                       # without the access log
#   BENCH_GUNICORN_ARGS="--max-requests 0" bash bench/throughput.sh        # a change to gunicorn.conf.py
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, no password) and Redis on 127.0.0.1:6379. The script
# drops and creates the database opengov_bench_throughput and flushes Redis database 11, at the start, at
# each server start and at the end: nothing else is touched. All traffic goes to 127.0.0.1 only.
# Prints a markdown report (see docs/benchmarks.md). Exits non-zero if an answer is not 200, if the static
# copy is not what the app sends, if the page cache does not serve the measured answers (or serves them
# while off), or if wrk saw an error; a bar that is missed is reported (PASS/FAIL), not an exit status.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${BENCH_DURATION:-15s}"
WARMUP="${BENCH_WARMUP:-3s}"  # unmeasured load first: each worker loads its code, the cache its answers
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-8}"
JOURNEY_DURATION="${BENCH_JOURNEY_DURATION:-60s}"
JOURNEY_CONNECTIONS="${BENCH_JOURNEY_CONNECTIONS:-50}"
WORKER_COUNTS="${BENCH_WORKERS:-2 5}"
SERVER_LOG_LEVEL="${BENCH_LOG_LEVEL:-INFO}"
# A request that takes longer counts as an error. gunicorn's own limit (WEB_TIMEOUT), not wrk's default of
# 2 s: a slow answer is an answer, and its time shows in p99 (wrk leaves timed-out requests out of it).
TIMEOUT="${BENCH_TIMEOUT:-30s}"
# Extra gunicorn flags, which override gunicorn.conf.py: to try a change of it (e.g. "--max-requests 0").
GUNICORN_ARGS="${BENCH_GUNICORN_ARGS:-}"
HOST=127.0.0.1
STATIC_PREFIX=/static-copy  # bench/static_wsgi.py answers the saved copy of <path> at /static-copy<path>
DB=opengov_bench_throughput
REDIS_DB=11

# name|label|path. The site's list of commitments is the plan page: every commitment of the plan in a table
# (search lists nothing until a word is typed). The same commitment as bench/pages.sh and bench/api.sh.
ENDPOINTS=(
  "plan|commitment list|/plans/2018-2020/"
  "commitment|commitment page|/plans/2018-2020/engagements/4/"
  "api|API list|/api/v1/commitments/"
)
BAR_RATIO=0.5
BAR_P99_MS=50

# Tools, the cleanup trap and production-like settings (WORK, SERVER_PID, cleanup, log).
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
# shellcheck source=bench/http.sh
source "$(dirname "$0")/http.sh"
# PostgreSQL: PG, psql_admin, create_database (dropped at exit), setup_step.
# shellcheck source=bench/postgres.sh
source "$(dirname "$0")/postgres.sh"
command -v redis-cli >/dev/null || { log "redis-cli is needed (Debian package redis-tools)"; exit 1; }

flush_redis() { redis-cli -h 127.0.0.1 -n "$REDIS_DB" FLUSHDB >/dev/null; }

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
# The shared cleanup (the server, the temporary directory, the database), after this script's own: Redis.
eval "common_$(declare -f cleanup)"
cleanup() {
  stop_server
  flush_redis 2>/dev/null || true
  common_cleanup
}

# As deployed, beside common.sh's settings: PostgreSQL rather than SQLite (the "before" figures include the
# queries as production runs them, and a hit can be shown to run none), Redis as the cache, the access log.
export DATABASE_URL="$PG/$DB"
export REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
export LOG_LEVEL="$SERVER_LOG_LEVEL"
# All the load comes from one address, which the anonymous rate (120/minute) would refuse at once. The
# throttle still runs on every request the view serves; its limit is only out of reach (see bench/api.sh).
export API_ANON_RATE="1000000/second"
# The answers saved for the static copy (read by bench/static_wsgi.py).
export BENCH_STATIC_COPY="$WORK/copy"
mkdir -p "$BENCH_STATIC_COPY"

redis-cli -h 127.0.0.1 ping >/dev/null || { log "Redis does not answer on 127.0.0.1:6379"; exit 1; }
flush_redis

# --- The data --------------------------------------------------------------------------------------

log "Building the database $DB (migrate, load_reference_data, indicators and questions, collectstatic)..."
create_database "$DB"
setup_step .venv/bin/python manage.py migrate --noinput
setup_step .venv/bin/python manage.py load_reference_data
setup_step .venv/bin/python manage.py collectstatic --noinput
# The reference data has no indicator and no question: the journey reads their pages too.
setup_step .venv/bin/python bench/reference_extras.py
# The journey's paths, one a line, as often as a reader asks for them compared with the others.
.venv/bin/python manage.py shell --no-imports -c '
from commitments.models import ActionPlan, Administration, Commitment
from forums.models import Forum
from indicators.models import Indicator

def out(path, weight=1):
    for _ in range(weight):
        print(path)

out("/", 6)
for plan in ActionPlan.objects.order_by("slug"):
    out(plan.get_absolute_url(), 3)
    out(f"/api/v1/plans/{plan.slug}/")
for commitment in Commitment.objects.select_related("plan").order_by("plan__slug", "number"):
    out(commitment.get_absolute_url())
for commitment in Commitment.objects.select_related("plan").order_by("plan__slug", "number")[::5]:
    out(f"/api/v1/commitments/{commitment.plan.slug}-{commitment.number}/")
for indicator in Indicator.objects.select_related("commitment__plan").order_by("pk"):
    out(indicator.get_absolute_url())
    out(f"/api/v1/indicators/{indicator.pk}/")
for administration in Administration.objects.order_by("slug")[::10]:
    out(administration.get_absolute_url())
out("/forums/", 2)
for forum in Forum.objects.order_by("pk"):
    out(forum.get_absolute_url())
    out(f"/api/v1/forums/{forum.pk}/")
out("/questions/", 2)
out("/mises-a-jour/")
out("/api/v1/", 1)
for path in ("commitments", "plans", "indicators", "forums", "contributions", "administrations"):
    out(f"/api/v1/{path}/", 2 if path == "commitments" else 1)
' >"$WORK/journey.out" 2>>"$WORK/setup.log" || { cat "$WORK/setup.log" >&2; exit 1; }
grep '^/' "$WORK/journey.out" >"$WORK/journey.paths"  # the paths only, whatever else the shell says
export BENCH_JOURNEY_PATHS="$WORK/journey.paths"

PORT="$(free_port)"
BASE="http://$HOST:$PORT"

# start_server WORKERS CACHE(on|off): gunicorn as deployed (it reads gunicorn.conf.py from here; the
# environment sets what a deployment sets), loading bench/static_wsgi.py, which hands every request to
# Django but those under /static-copy/. Redis is emptied first: each configuration starts from a cold cache.
start_server() {
  local workers="$1" cache="$2" enabled=true
  [ "$cache" = on ] || enabled=false
  flush_redis
  SERVER_LOG="$WORK/gunicorn-$workers-$cache.log"
  PAGE_CACHE_ENABLED="$enabled" WEB_BIND="$HOST:$PORT" WEB_CONCURRENCY="$workers" \
    .venv/bin/gunicorn static_wsgi:application --pythonpath bench $GUNICORN_ARGS >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  wait_for_server "$BASE" "$SERVER_LOG"
  # Every worker up before anything is measured: one boot line each.
  for _ in $(seq 150); do
    [ "$(grep -c 'Booting worker' "$SERVER_LOG")" -ge "$workers" ] && break
    sleep 0.2
  done
}

# --- The machine -------------------------------------------------------------------------------

versions="$(.venv/bin/python -c 'import sys, django, rest_framework, gunicorn, redis; print(sys.version.split()[0], django.get_version(), rest_framework.__version__, gunicorn.__version__, redis.__version__)')"
read -r py_version django_version drf_version gunicorn_version redis_py_version <<<"$versions"
# What gunicorn.conf.py gives a worker, as gunicorn reads it.
gunicorn_settings="$(.venv/bin/python - <<'EOF'
import runpy

conf = runpy.run_path("gunicorn.conf.py")
print("timeout {timeout} s, keepalive {keepalive} s, max_requests {max_requests} (jitter {max_requests_jitter})".format(**conf))
EOF
)"

machine_header
echo "- RAM: $(awk '/^MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)"
echo "- Python $py_version, Django $django_version, Django REST framework $drf_version, gunicorn $gunicorn_version, redis-py $redis_py_version"
echo "- $(psql "$PG/postgres" -qAtc 'SHOW server_version' | sed 's/ .*//;s/^/PostgreSQL /'), Redis $(redis-cli -h 127.0.0.1 info server | sed -n 's/^redis_version:\(.*\)\r$/\1/p'), both on 127.0.0.1"
echo "- gunicorn: gunicorn.conf.py as deployed, sync workers: ${WORKER_COUNTS// / and }; $gunicorn_settings${GUNICORN_ARGS:+; overridden on the command line: \`$GUNICORN_ARGS\`}"
echo "- settings: DEBUG off, Redis cache (database $REDIS_DB), PostgreSQL, LOG_LEVEL=$LOG_LEVEL (access log to a file), page cache on and off"
echo "- $(wrk_version): -t$THREADS -c$CONNECTIONS -d$DURATION per endpoint after a $WARMUP warm-up; journey -t$THREADS -c$JOURNEY_CONNECTIONS -d$JOURNEY_DURATION; timeout $TIMEOUT; from the same machine"
# wrk, gunicorn, Redis and PostgreSQL share these CPUs with anything else running.
echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# --- Helpers -------------------------------------------------------------------------------------

failures=()
# The status line and headers two answers must share: all but those the server sets itself, and the two
# the app sets per request: X-Request-ID (a new id each time) and X-Cache (hit, miss, or none when off).
answer_headers_app() { answer_headers "$1" 'x-request-id|x-cache'; }
# fetch URL NAME: one request as wrk sends it (Host only: no Accept, no User-Agent), saved to NAME.headers
# and NAME.body. The page cache keys API answers by Accept: a request with curl's "*/*" would be another entry.
fetch() { curl -s -H 'Accept:' -H 'User-Agent:' -D "$2.headers" -o "$2.body" "$1"; }
status_of() { sed -n '1s/^[^ ]* \([0-9]*\).*/\1/p' "$1"; }

# CPU time, in clock ticks, of the gunicorn workers: those alive, and those the arbiter has reaped
# (gunicorn.conf.py's max_requests replaces a worker after about a hundred thousand requests).
TICKS="$(getconf CLK_TCK)"
workers_cpu() {
  local total pid
  total="$(awk '{ print $16 + $17 }' "/proc/$SERVER_PID/stat")"
  for pid in $(pgrep -P "$SERVER_PID"); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
# Redis's own CPU (whole server, in ms), wrk's (the finished children of the shell running wrk, in ticks), the machine's
# busy and total ticks, and PostgreSQL's committed transactions in the benchmark's database (autocommit: one
# per query outside a transaction).
redis_cpu_ms() { redis-cli -h 127.0.0.1 info cpu | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.0f", s * 1000 }'; }
children_cpu() { awk '{ print $16 + $17 }' "/proc/$1/stat"; }  # children_cpu PID: its reaped children's CPU
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
# PostgreSQL's CPU (the whole server: every database), in ticks: the postmaster, its live children, and the
# children it has reaped.
postgres_cpu() {
  local postmaster total pid
  postmaster="$(pgrep -o -x postgres)" || { echo 0; return; }
  total="$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$postmaster/stat")"
  for pid in $(pgrep -P "$postmaster"); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
# Until the workers have been idle for 0.3 s: the requests still in flight when wrk stopped are served.
wait_idle() {
  local before after
  for _ in $(seq 30); do
    before="$(workers_cpu)"; sleep 0.3; after="$(workers_cpu)"
    [ "$before" = "$after" ] && return
  done
}
# A backend publishes its counts when it ends, and otherwise only now and then: the workers' connections to
# the benchmark's database are ended first (Django's health check opens a new one at their next query).
pg_transactions() {
  wait_idle  # never end a connection under a request still running: it would fail
  psql "$PG/postgres" -qAtc "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$DB'" >/dev/null
  for _ in $(seq 50); do
    [ "$(psql "$PG/postgres" -qAtc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'")" = 0 ] && break
    sleep 0.05
  done
  psql "$PG/postgres" -qAtc "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$DB'"
}
field() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }  # one key=value of the BENCH line

# run_wrk NAME CONNECTIONS DURATION URL [wrk arguments]: the measured run, with the cost of each answer.
# Prints "requests/s p50_ms p99_ms requests non2xx3xx socket_errors workers_cpu_ms redis_cpu_ms wrk_cpu_ms
# machine_busy_% pg_transactions_per_request worker_boots postgres_cpu_ms other_work_%" (costs per request).
# Other work: the share of both CPUs busy with anything but the workers, wrk, Redis and PostgreSQL (another
# program running meanwhile, or this script's own bookkeeping): a figure above a few % was disturbed.
run_wrk() {
  local name="$1" connections="$2" duration="$3" url="$4"; shift 4
  local cpu0 cpu1 redis0 redis1 wrk0 wrk1 busy0 total0 busy1 total1 pg0 pg1 boots0 boots1 pgcpu0 pgcpu1
  local shell="$BASHPID"  # the shell that runs wrk, whose CPU it gets when wrk ends (not a $(...) below)
  pg0="$(pg_transactions)"; boots0="$(grep -c 'Booting worker' "$SERVER_LOG" || true)"
  cpu0="$(workers_cpu)"; redis0="$(redis_cpu_ms)"; wrk0="$(children_cpu "$shell")"; pgcpu0="$(postgres_cpu)"
  read -r busy0 total0 <<<"$(machine_ticks)"
  wrk -t"$THREADS" -c"$connections" -d"$duration" --timeout "$TIMEOUT" --latency "$@" "$url" >"$WORK/$name.wrk" 2>&1 || true
  read -r busy1 total1 <<<"$(machine_ticks)"
  cpu1="$(workers_cpu)"; redis1="$(redis_cpu_ms)"; wrk1="$(children_cpu "$shell")"; pgcpu1="$(postgres_cpu)"
  pg1="$(pg_transactions)"; boots1="$(grep -c 'Booting worker' "$SERVER_LOG" || true)"
  line="$(grep '^BENCH ' "$WORK/$name.wrk")" || { cat "$WORK/$name.wrk" >&2; exit 1; }
  awk -v n="$(field requests)" -v us="$(field duration_us)" -v p50="$(field p50_us)" -v p99="$(field p99_us)" \
    -v bad="$(field non2xx3xx)" -v errors="$(field socket_errors)" -v ticks="$TICKS" \
    -v cpu=$((cpu1 - cpu0)) -v redis=$((redis1 - redis0)) -v wrkcpu=$((wrk1 - wrk0)) \
    -v busy=$((busy1 - busy0)) -v total=$((total1 - total0)) -v pg=$((pg1 - pg0)) -v boots=$((boots1 - boots0)) \
    -v pgcpu=$((pgcpu1 - pgcpu0)) 'BEGIN {
      m = n ? n : 1; t = total ? total : 1
      other = 100 * (busy - cpu - wrkcpu - pgcpu - redis * ticks / 1000) / t
      printf "%.1f %.2f %.2f %d %d %d %.3f %.3f %.3f %.0f %.2f %d %.3f %.0f\n", n / (us / 1e6), p50 / 1000, p99 / 1000, n, bad,
        errors, cpu / ticks * 1000 / m, redis / m, wrkcpu / ticks * 1000 / m, 100 * busy / t, pg / m, boots,
        pgcpu / ticks * 1000 / m, other < 0 ? 0 : other }'
}

# measure NAME URL: warm-up, then the measured run at CONNECTIONS; wrk errors are failures.
measure() {
  local name="$1" url="$2" result
  log "wrk on $name ($url): $WARMUP warm-up, then $DURATION..."
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" --timeout "$TIMEOUT" "$url" >"$WORK/warmup.wrk" 2>&1 || { cat "$WORK/warmup.wrk" >&2; exit 1; }
  result="$(run_wrk "$name" "$CONNECTIONS" "$DURATION" "$url" -s bench/wrk_done.lua)"
  read -r _ _ _ _ bad errors _ <<<"$result"
  if [ "$bad" != 0 ] || [ "$errors" != 0 ]; then
    failures+=("$name $url: wrk saw $bad non-2xx/3xx responses and $errors socket errors")
  fi
  echo "$result"
}

# --- The static copy ---------------------------------------------------------------------------------

# Saved once, from the first server with the page cache on: the answers of a hit, as readers get them,
# X-Request-ID and X-Cache included, so that the copy sends the same bytes, headers and all.
save_copy() {
  : >"$BENCH_STATIC_COPY/index.tsv"
  local entry name path
  for entry in "${ENDPOINTS[@]}"; do
    IFS='|' read -r name _ path <<<"$entry"
    fetch "$BASE$path" "$WORK/first-$name"  # a miss: renders and stores
    fetch "$BASE$path" "$BENCH_STATIC_COPY/$name"
    printf '%s\t%s\n' "$path" "$name" >>"$BENCH_STATIC_COPY/index.tsv"
  done
}

# check CONFIGURATION: one line of the checks table per endpoint, and the failures. Before any request to
# the copy: each worker reads the copy's index at its first.
checks_rows=()
check() {
  local config="$1" cache="$2" entry name label path status size same x_cache expected
  for entry in "${ENDPOINTS[@]}"; do
    IFS='|' read -r name label path <<<"$entry"
    local copy="$BENCH_STATIC_COPY/$name"
    fetch "$BASE$path" "$WORK/check-$name"  # once more, whatever the first was (a miss on a cold cache)
    fetch "$BASE$path" "$WORK/check-$name"
    status="$(status_of "$WORK/check-$name.headers")"
    size="$(wc -c <"$WORK/check-$name.body")"
    x_cache="$(header X-Cache "$WORK/check-$name.headers")"
    # The app's answer: the copy's bytes, and its headers but the per-request ones.
    same=yes
    cmp -s "$copy.body" "$WORK/check-$name.body" || same="no (body)"
    if [ "$(answer_headers_app "$copy.headers")" != "$(answer_headers_app "$WORK/check-$name.headers")" ]; then
      same="no (headers)"
      log "$config $path: headers of the copy (<) and of the app (>):"
      diff <(answer_headers_app "$copy.headers") <(answer_headers_app "$WORK/check-$name.headers") >&2 || true
    fi
    # The static copy, a few times: the saved status line, headers and bytes, all but the server's own.
    local static_same=yes
    for _ in 1 2 3 4; do
      fetch "$BASE$STATIC_PREFIX$path" "$WORK/static-$name"
      if ! cmp -s "$copy.body" "$WORK/static-$name.body" || [ "$(tr -d '\r' <"$copy.headers" | grep -viE '^(date|server|connection):')" \
        != "$(tr -d '\r' <"$WORK/static-$name.headers" | grep -viE '^(date|server|connection):')" ]; then
        static_same=no
      fi
    done
    expected=hit; [ "$cache" = on ] || expected=""
    checks_rows+=("| $config | $label \`$path\` | $status | $size | ${x_cache:-none} | $same | $static_same |")
    [ "$status" = 200 ] || failures+=("$config $path: status $status, not 200")
    [ "$same" = yes ] || failures+=("$config $path: the app's answer differs from the saved copy: $same")
    [ "$static_same" = yes ] || failures+=("$config $path: the static copy differs from the saved answer")
    [ "$x_cache" = "$expected" ] || failures+=("$config $path: X-Cache '${x_cache}', expected '${expected}'")
  done
}

# check_journey CONFIGURATION: every path of the journey answers 200 (twice: a miss, then what readers get).
journey_rows=()
check_journey() {
  local config="$1" path status bad=() count=0
  for path in $(sort -u "$BENCH_JOURNEY_PATHS"); do
    curl -s -H 'Accept:' -H 'User-Agent:' -o /dev/null "$BASE$path"
    status="$(curl -s -H 'Accept:' -H 'User-Agent:' -o /dev/null -w '%{http_code}' "$BASE$path")"
    count=$((count + 1))
    [ "$status" = 200 ] || bad+=("$path ($status)")
  done
  if [ ${#bad[@]} -gt 0 ]; then
    failures+=("$config journey paths not answering 200: ${bad[*]}")
    journey_rows+=("| $config | $count | ${#bad[@]} not 200: ${bad[*]} |")
  else
    journey_rows+=("| $config | $count | all 200 |")
  fi
}

# --- The runs ------------------------------------------------------------------------------------

results=()
journeys=()
copy_saved=false
for workers in $WORKER_COUNTS; do
  # On first, so that the copy can be saved from a hit before any request to it.
  for cache in on off; do
    config="$workers workers, page cache $cache"
    log "--- $config: starting gunicorn..."
    start_server "$workers" "$cache"
    if [ "$copy_saved" = false ]; then
      save_copy
      copy_saved=true
    fi
    check "$config" "$cache"
    check_journey "$config"
    if [ ${#failures[@]} -gt 0 ]; then
      # Measuring an error, or a copy of something else, would be meaningless: stop here.
      printf 'FAILED: %s\n' "${failures[@]}" >&2
      exit 1
    fi
    for entry in "${ENDPOINTS[@]}"; do
      IFS='|' read -r name label path <<<"$entry"
      # measure runs in this shell (not a subshell), so that its failures are kept; its line goes to a file.
      measure "$name-$workers-$cache-app" "$BASE$path" >"$WORK/app.result"
      app="$(cat "$WORK/app.result")"
      # Still what readers get after the load: a hit with the cache on (the whole run was: nothing expired).
      fetch "$BASE$path" "$WORK/after-$name"
      x_cache="$(header X-Cache "$WORK/after-$name.headers")"
      if [ "$cache" = on ] && [ "$x_cache" != hit ]; then
        failures+=("$config $path: X-Cache '$x_cache' after the load, not hit")
      fi
      measure "$name-$workers-$cache-static" "$BASE$STATIC_PREFIX$path" >"$WORK/static.result"
      static="$(cat "$WORK/static.result")"
      results+=("$workers|$cache|$label|$path|$app|$static")
    done
    log "journey: $JOURNEY_CONNECTIONS readers for $JOURNEY_DURATION ($(wc -l <"$BENCH_JOURNEY_PATHS") paths)..."
    logged0="$(wc -l <"$SERVER_LOG")"
    journey="$(run_wrk "journey-$workers-$cache" "$JOURNEY_CONNECTIONS" "$JOURNEY_DURATION" "$BASE/" -s bench/journey.lua)"
    read -r _ _ _ _ bad errors _ <<<"$journey"
    # What the server logged meanwhile: the access lines by status (with LOG_LEVEL=INFO), and any error line.
    statuses="$(tail -n +"$((logged0 + 1))" "$SERVER_LOG" | .venv/bin/python -c '
import collections, json, sys
statuses, errors = collections.Counter(), 0
for line in sys.stdin:
    try:
        entry = json.loads(line)
    except ValueError:
        errors += 1
        continue
    if entry.get("logger") == "opengov.request":
        statuses[entry["status"]] += 1
    elif entry.get("level") in ("ERROR", "CRITICAL"):
        errors += 1
errors += sum(count for status, count in statuses.items() if status >= 500)
print((", ".join(f"{count} × {status}" for status, count in sorted(statuses.items())) or "none logged") + f"|{errors}")
')"
    journeys+=("$workers|$cache|$journey|$statuses")
    # The server's errors, if any, for whoever reads the run's output.
    tail -n +"$((logged0 + 1))" "$SERVER_LOG" | grep -E '"level": "(ERROR|CRITICAL)"|"status": 5[0-9][0-9]|^[^{]' | head -n 20 >&2 || true
    if [ "$bad" != 0 ] || [ "$errors" != 0 ] || [ "${statuses##*|}" != 0 ]; then
      failures+=("$config journey: wrk saw $bad non-2xx/3xx responses and $errors socket errors; the server logged ${statuses##*|} errors")
    fi
    stop_server
  done
done

# --- The report ----------------------------------------------------------------------------------

echo "## Checks"
echo
echo "Each answer twice as wrk asks (no Accept, no User-Agent), the second one checked: 200, the copy's bytes"
echo "and headers (all but Date, Server, Connection, X-Request-ID and X-Cache), and a hit when the page cache"
echo "is on. The static copy was saved from a hit, X-Request-ID and X-Cache included."
echo
echo "| configuration | endpoint | status | bytes | X-Cache | app: same bytes and headers as the copy | static copy: same status, headers and bytes |"
echo "|---|---|---|---:|---|---|---|"
printf '%s\n' "${checks_rows[@]}"
echo
echo "| configuration | journey paths (distinct) | status, second request |"
echo "|---|---:|---|"
printf '%s\n' "${journey_rows[@]}"
echo

echo "## Results at $CONNECTIONS connections"
echo
echo "Bar: app ÷ static ≥ $BAR_RATIO and app p99 < $BAR_P99_MS ms."
echo
echo "| endpoint | workers | page cache | app requests/s | app p50 | app p99 | static requests/s | static p50 | static p99 | app ÷ static | bar |"
echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"
for result in "${results[@]}"; do
  IFS='|' read -r workers cache label path app static <<<"$result"
  read -r a_rps a_p50 a_p99 _ <<<"$app"
  read -r s_rps s_p50 s_p99 _ <<<"$static"
  awk -v label="$label" -v path="$path" -v w="$workers" -v c="$cache" -v ar="$a_rps" -v a50="$a_p50" -v a99="$a_p99" \
    -v sr="$s_rps" -v s50="$s_p50" -v s99="$s_p99" -v bar_ratio="$BAR_RATIO" -v bar_p99="$BAR_P99_MS" 'BEGIN {
      ratio = ar / sr
      verdict = (ratio >= bar_ratio && a99 < bar_p99) ? "PASS" : "FAIL"
      printf "| %s `%s` | %s | %s | %.0f | %.1f ms | %.1f ms | %.0f | %.1f ms | %.1f ms | %.3f | %s |\n",
        label, path, w, c, ar, a50, a99, sr, s50, s99, ratio, verdict }'
done
echo
echo "Costs per request during the measured run: CPU of the gunicorn workers, of PostgreSQL, Redis and wrk;"
echo "PostgreSQL transactions in the benchmark's database (one per query, autocommit); the share of both CPUs"
echo "in use, and of it, other work (anything else running: above a few %, the run was disturbed); workers"
echo "booted during the run (max_requests)."
echo
echo "| endpoint | workers | page cache | served by | workers CPU | PostgreSQL CPU | Redis CPU | wrk CPU | SQL per request | machine busy | other work | worker boots |"
echo "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for result in "${results[@]}"; do
  IFS='|' read -r workers cache label path app static <<<"$result"
  for side in app static; do
    [ "$side" = app ] && values="$app" || values="$static"
    read -r _ _ _ _ _ _ w_cpu r_cpu k_cpu busy sql boots p_cpu other <<<"$values"
    awk -v label="$label" -v w="$workers" -v c="$cache" -v side="$side" -v wc="$w_cpu" -v rc="$r_cpu" -v kc="$k_cpu" \
      -v pc="$p_cpu" -v busy="$busy" -v sql="$sql" -v boots="$boots" -v other="$other" 'BEGIN {
        printf "| %s | %s | %s | %s | %.3f ms | %.3f ms | %.3f ms | %.3f ms | %.2f | %d %% | %d %% | %d |\n",
          label, w, c, side, wc, pc, rc, kc, sql, busy, other, boots }'
  done
done
echo

echo "## Journey: $JOURNEY_CONNECTIONS readers for $JOURNEY_DURATION"
echo
echo "$(sort -u "$BENCH_JOURNEY_PATHS" | wc -l) distinct paths, $(wc -l <"$BENCH_JOURNEY_PATHS") entries drawn at random (bench/journey.lua):"
echo "$(sort "$BENCH_JOURNEY_PATHS" | uniq -c | awk '{ kind = ($2 ~ /^\/api\//) ? "API" : "pages" ; n[kind] += $1 } END { printf "%d pages, %d API", n["pages"], n["API"] }') entries."
echo
echo "| workers | page cache | requests | requests/s | p50 | p99 | non-2xx/3xx | socket errors | workers CPU per request | SQL per request | machine busy | other work | worker boots | access log by status | server errors logged (5xx, error lines) | result |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"
for journey in "${journeys[@]}"; do
  IFS='|' read -r workers cache values statuses log_errors <<<"$journey"
  read -r rps p50 p99 n bad errors w_cpu _ _ busy sql boots _ other <<<"$values"
  verdict=PASS; { [ "$bad" != 0 ] || [ "$errors" != 0 ] || [ "$log_errors" != 0 ]; } && verdict=FAIL
  awk -v w="$workers" -v c="$cache" -v n="$n" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v bad="$bad" -v errors="$errors" \
    -v wc="$w_cpu" -v sql="$sql" -v busy="$busy" -v other="$other" -v boots="$boots" -v statuses="$statuses" \
    -v log_errors="$log_errors" -v verdict="$verdict" 'BEGIN {
      printf "| %s | %s | %d | %.0f | %.1f ms | %.1f ms | %d | %d | %.2f ms | %.2f | %d %% | %d %% | %d | %s | %d | %s |\n",
        w, c, n, rps, p50, p99, bad, errors, wc, sql, busy, other, boots, statuses, log_errors, verdict }'
done
echo

if [ ${#failures[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "All checks passed."
