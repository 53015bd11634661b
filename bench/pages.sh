#!/usr/bin/env bash
# Speed of the citizens' pages, as an anonymous visitor sees them: requests per second and
# p50/p99 latency for the home, plan and commitment pages, under gunicorn with 2 workers, loaded
# by wrk from this same machine. Also checks what makes those pages cacheable: no cookie, a
# Cache-Control header, and a 304 to a repeated conditional request.
#
#   bash bench/pages.sh                     # 15 s of load per page
#   BENCH_DURATION=5s bash bench/pages.sh   # shorter run
#
# Everything runs on a throw-away SQLite database and static root in a temporary directory, so
# it touches neither var/db.sqlite3 nor a local .env. All traffic goes to 127.0.0.1 only.
# Prints a markdown report (see docs/benchmarks.md); exits non-zero if a page is not 200, sets a
# cookie, has no Cache-Control, does not answer 304 to a conditional request, or if wrk saw errors.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${BENCH_DURATION:-15s}"
WARMUP="${BENCH_WARMUP:-3s}"  # unmeasured load first, so each worker has loaded its templates and code
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-8}"
HOST=127.0.0.1

# name|path: the pages measured, one of each kind, on the 2018-2020 plan of the reference data.
PAGES=(
  "home|/"
  "plan|/plans/2018-2020/"
  "commitment|/plans/2018-2020/engagements/4/"
)

# Tools, the cleanup trap and production-like settings (WORK, SERVER_PID, cleanup, log).
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
# shellcheck source=bench/http.sh
source "$(dirname "$0")/http.sh"

log "Building the database in $WORK (migrate, load_reference_data, collectstatic)..."
.venv/bin/python manage.py migrate --noinput >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; exit 1; }
.venv/bin/python manage.py load_reference_data >>"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; exit 1; }
.venv/bin/python manage.py collectstatic --noinput >>"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; exit 1; }

PORT="$(free_port)"
BASE="http://$HOST:$PORT"

# No control socket: gunicorn's default one lives in ~/.gunicorn and would be shared with any
# other gunicorn on the machine.
.venv/bin/gunicorn opengov.wsgi:application --workers 2 --bind "$HOST:$PORT" \
  --no-control-socket --log-level warning >"$WORK/gunicorn.log" 2>&1 &
SERVER_PID=$!

wait_for_server "$BASE" "$WORK/gunicorn.log"

# --- The machine -------------------------------------------------------------------------------

versions="$(.venv/bin/python -c 'import sys, sqlite3, django, gunicorn; print(sys.version.split()[0], django.get_version(), gunicorn.__version__, sqlite3.sqlite_version)')"
read -r py_version django_version gunicorn_version sqlite_version <<<"$versions"

machine_header
echo "- Python $py_version, Django $django_version, gunicorn $gunicorn_version (2 sync workers), SQLite $sqlite_version"
echo "- $(wrk_version): -t$THREADS -c$CONNECTIONS -d$DURATION after a $WARMUP warm-up, keep-alive, from the same machine"
# wrk and gunicorn share these CPUs with anything else running: a busy machine lowers every figure.
echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# --- Checks: status, no cookie, Cache-Control, 304 ---------------------------------------------

failures=()
all_ok=true  # every page answered 200

echo "## Checks (anonymous visitor, no cookie sent)"
echo
echo "| page | path | status | bytes | Set-Cookie | Cache-Control | repeated with If-None-Match | repeated with If-Modified-Since |"
echo "|---|---|---|---:|---|---|---|---|"
for entry in "${PAGES[@]}"; do
  name="${entry%%|*}"; path="${entry#*|}"
  headers="$WORK/$name.headers"
  read -r status size < <(curl -s -D "$headers" -o /dev/null -w '%{http_code} %{size_download}\n' "$BASE$path")
  if grep -qi '^set-cookie:' "$headers"; then
    cookie="yes: $(grep -i '^set-cookie:' "$headers" | sed 's/^[^:]*: *//; s/=.*//' | tr -d '\r' | paste -sd, -)"
  else
    cookie="none"
  fi
  cache_control="$(header Cache-Control "$headers")"
  etag="$(header ETag "$headers")"
  last_modified="$(header Last-Modified "$headers")"

  # The same request again, as a browser or cache revalidating what it holds.
  inm="no ETag"; ims="no Last-Modified"
  if [ -n "$etag" ]; then
    inm="$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$BASE$path")"
  fi
  if [ -n "$last_modified" ]; then
    ims="$(curl -s -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $last_modified" "$BASE$path")"
  fi
  echo "| $name | \`$path\` | $status | $size | $cookie | ${cache_control:-**missing**} | $inm | $ims |"

  [ "$status" = 200 ] || { all_ok=false; failures+=("$name $path: status $status, not 200"); }
  [ "$cookie" = none ] || failures+=("$name $path: sets a cookie (Set-Cookie: ${cookie#yes: })")
  [ -n "$cache_control" ] || failures+=("$name $path: no Cache-Control header")
  if [ "$inm" != 304 ] && [ "$ims" != 304 ]; then
    failures+=("$name $path: no 304 to a repeated request (If-None-Match: $inm, If-Modified-Since: $ims)")
  fi
done
echo

# Measuring an error page would be meaningless: stop here if a page does not answer 200.
if [ "$all_ok" != true ]; then
  printf 'FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi

# --- Load --------------------------------------------------------------------------------------

echo "## Results"
echo
# CPU time (user + system) the gunicorn workers spent, in clock ticks: divided by the requests
# served, it gives the server's own cost of a page, which other load on the machine barely changes.
TICKS="$(getconf CLK_TCK)"
workers_cpu() {
  local total=0 pid
  for pid in $(pgrep -P "$SERVER_PID"); do  # the workers are the children of our gunicorn
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

field() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }  # one key=value of wrk_done.lua's line

echo "| page | requests/s | p50 | p99 | server CPU per request |"
echo "|---|---:|---:|---:|---:|"
for entry in "${PAGES[@]}"; do
  name="${entry%%|*}"; path="${entry#*|}"
  log "wrk on $name ($path): $WARMUP warm-up, then $DURATION..."
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$BASE$path" >"$WORK/warmup.wrk" 2>&1 || { cat "$WORK/warmup.wrk" >&2; exit 1; }
  cpu_before="$(workers_cpu)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/wrk_done.lua "$BASE$path" >"$WORK/$name.wrk" 2>&1
  cpu_after="$(workers_cpu)"
  line="$(grep '^BENCH ' "$WORK/$name.wrk")" || { cat "$WORK/$name.wrk" >&2; exit 1; }
  awk -v n="$(field requests)" -v us="$(field duration_us)" -v p50="$(field p50_us)" -v p99="$(field p99_us)" \
    -v cpu=$((cpu_after - cpu_before)) -v ticks="$TICKS" -v name="$name" 'BEGIN {
      printf "| %s | %.0f | %.1f ms | %.1f ms | %.1f ms |\n",
        name, n / (us / 1e6), p50 / 1000, p99 / 1000, n ? cpu / ticks * 1000 / n : 0 }'
  bad="$(field non2xx3xx)"; errors="$(field socket_errors)"
  if [ "$bad" != 0 ] || [ "$errors" != 0 ]; then
    failures+=("$name $path: wrk saw $bad non-2xx/3xx responses and $errors socket errors")
  fi
done
echo

if [ ${#failures[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "All checks passed."
