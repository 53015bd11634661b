#!/usr/bin/env bash
# Speed of the API, and how close it is to the limit of the server it runs in: requests per second and
# p50/p99 latency of a full page of /api/v1/commitments/ and of one commitment, under gunicorn with 2
# workers, loaded by wrk from this same machine; beside the same gunicorn workers answering the same bytes
# from a static file (bench/static_wsgi.py). The ratio API ÷ static is the share of the server's ceiling
# the API reaches: 1 would mean the API costs nothing above receiving a request and sending the bytes.
#
#   bash bench/api.sh                     # 15 s of load per endpoint and per way of serving it
#   BENCH_DURATION=5s bash bench/api.sh   # shorter run
#
# Everything runs on a throw-away SQLite database and static root in a temporary directory, so it touches
# neither var/db.sqlite3 nor a local .env. All traffic goes to 127.0.0.1 only.
# Prints a markdown report (see docs/benchmarks.md); exits non-zero if an endpoint does not answer 200 with
# JSON, if the list is not one full page of every commitment, if the static copy is not byte for byte what
# the API sent, or if wrk saw errors.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${BENCH_DURATION:-15s}"
WARMUP="${BENCH_WARMUP:-3s}"  # unmeasured load first, so each worker has loaded its code (and its static copy)
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-8}"
HOST=127.0.0.1
STATIC_PREFIX=/static-copy  # bench/static_wsgi.py answers the saved copy of <path> at /static-copy<path>

# name|path: a full page of the list (the reference data has 47 commitments: one page of 50 holds them
# all) and one commitment.
ENDPOINTS=(
  "list|/api/v1/commitments/?page_size=50"
  "detail|/api/v1/commitments/2018-2020-4/"
)
EXPECTED_COMMITMENTS=47

# Tools, the cleanup trap and production-like settings (WORK, SERVER_PID, cleanup, log).
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
# shellcheck source=bench/http.sh
source "$(dirname "$0")/http.sh"
# All the load comes from one address, which the anonymous rate (120/minute by default) would refuse
# after two seconds. The throttle still runs on every request, as deployed; its limit is only out of
# reach. Per second, so that the history it keeps per address stays short, as with the real rate.
export API_ANON_RATE="1000000/second"
# Where the API's answers are saved for the static copy (read by bench/static_wsgi.py).
export BENCH_STATIC_COPY="$STATIC_ROOT/api-copy"
mkdir -p "$BENCH_STATIC_COPY"

log "Building the database in $WORK (migrate, load_reference_data)..."
.venv/bin/python manage.py migrate --noinput >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; exit 1; }
.venv/bin/python manage.py load_reference_data >>"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; exit 1; }

PORT="$(free_port)"
BASE="http://$HOST:$PORT"

# One server for both: bench/static_wsgi.py hands every request to Django, except those under
# /static-copy/. No control socket: gunicorn's default one lives in ~/.gunicorn and would be shared with
# any other gunicorn on the machine.
.venv/bin/gunicorn static_wsgi:application --pythonpath bench --workers 2 --bind "$HOST:$PORT" \
  --no-control-socket --log-level warning >"$WORK/gunicorn.log" 2>&1 &
SERVER_PID=$!

wait_for_server "$BASE" "$WORK/gunicorn.log"

# --- The machine -------------------------------------------------------------------------------

versions="$(.venv/bin/python -c 'import sys, sqlite3, django, rest_framework, gunicorn; print(sys.version.split()[0], django.get_version(), rest_framework.__version__, gunicorn.__version__, sqlite3.sqlite_version)')"
read -r py_version django_version drf_version gunicorn_version sqlite_version <<<"$versions"

machine_header
echo "- Python $py_version, Django $django_version, Django REST framework $drf_version, gunicorn $gunicorn_version (2 sync workers), SQLite $sqlite_version"
echo "- $(wrk_version): -t$THREADS -c$CONNECTIONS -d$DURATION after a $WARMUP warm-up, keep-alive, from the same machine"
# wrk and gunicorn share these CPUs with anything else running: a busy machine lowers every figure.
echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# --- The static copy, and checks ---------------------------------------------------------------

failures=()

echo "## Checks"
echo
echo "| endpoint | path | status | bytes | Content-Type | commitments | static copy: same status, headers and bytes |"
echo "|---|---|---|---:|---|---:|---|"
# The API's answers, saved once: the static copy serves these files. All are saved before the first
# request to the copy, at which each worker reads the index.
: >"$BENCH_STATIC_COPY/index.tsv"
for entry in "${ENDPOINTS[@]}"; do
  name="${entry%%|*}"; path="${entry#*|}"
  curl -s -D "$BENCH_STATIC_COPY/$name.headers" -o "$BENCH_STATIC_COPY/$name.body" "$BASE$path"
  printf '%s\t%s\n' "$path" "$name" >>"$BENCH_STATIC_COPY/index.tsv"
done

for entry in "${ENDPOINTS[@]}"; do
  name="${entry%%|*}"; path="${entry#*|}"
  copy="$BENCH_STATIC_COPY/$name"
  status="$(sed -n '1s/^[^ ]* \([0-9]*\).*/\1/p' "$copy.headers")"
  size="$(wc -c <"$copy.body")"
  content_type="$(header Content-Type "$copy.headers")"

  # How many commitments the body holds: all of them on one page for the list, one for the detail.
  count="$(.venv/bin/python - "$copy.body" "$name" <<'EOF' 2>/dev/null || echo "not JSON"
import json, sys
data = json.load(open(sys.argv[1], encoding="utf-8"))
if sys.argv[2] == "list":
    complete = data["count"] == len(data["results"]) and data["next"] is None
    print(f"{len(data['results'])} of {data['count']}" + ("" if complete else " (not one full page)"))
else:
    print(1 if data.get("key") else 0)
EOF
)"

  # The same path through the static copy, a few times: same status line, headers and bytes.
  same=yes
  for _ in 1 2 3 4; do
    curl -s -D "$WORK/$name.static.headers" -o "$WORK/$name.static.body" "$BASE$STATIC_PREFIX$path"
    if ! cmp -s "$copy.body" "$WORK/$name.static.body" \
      || [ "$(answer_headers "$copy.headers")" != "$(answer_headers "$WORK/$name.static.headers")" ]; then
      same=no
    fi
  done
  echo "| $name | \`$path\` | $status | $size | ${content_type:-**missing**} | $count | $same |"

  [ "$status" = 200 ] || failures+=("$name $path: status $status, not 200")
  case "$content_type" in application/json*) ;; *) failures+=("$name $path: Content-Type ${content_type:-missing}, not JSON") ;; esac
  if [ "$name" = list ] && [ "$count" != "$EXPECTED_COMMITMENTS of $EXPECTED_COMMITMENTS" ]; then
    failures+=("$name $path: $count commitments, not one full page of $EXPECTED_COMMITMENTS")
  fi
  [ "$same" = yes ] || failures+=("$name: the static copy at $STATIC_PREFIX$path differs from the API's answer")
done
echo

# Measuring an error, or a copy of something else, would be meaningless: stop here.
if [ ${#failures[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi

# --- Load --------------------------------------------------------------------------------------

# CPU time (user + system) the gunicorn workers spent, in clock ticks: divided by the requests
# served, it gives the server's own cost of an answer, which other load on the machine barely changes.
TICKS="$(getconf CLK_TCK)"
workers_cpu() {
  local total=0 pid
  for pid in $(pgrep -P "$SERVER_PID"); do  # the workers are the children of our gunicorn
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

field() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }  # one key=value of wrk_done.lua's line

# measure NAME URL: warm-up, then the measured run; prints "requests/s p50_ms p99_ms cpu_ms_per_request".
measure() {
  local name="$1" url="$2" cpu_before cpu_after
  log "wrk on $name ($url): $WARMUP warm-up, then $DURATION..."
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$url" >"$WORK/warmup.wrk" 2>&1 || { cat "$WORK/warmup.wrk" >&2; exit 1; }
  cpu_before="$(workers_cpu)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/wrk_done.lua "$url" >"$WORK/$name.wrk" 2>&1
  cpu_after="$(workers_cpu)"
  line="$(grep '^BENCH ' "$WORK/$name.wrk")" || { cat "$WORK/$name.wrk" >&2; exit 1; }
  bad="$(field non2xx3xx)"; errors="$(field socket_errors)"
  if [ "$bad" != 0 ] || [ "$errors" != 0 ]; then
    failures+=("$name $url: wrk saw $bad non-2xx/3xx responses and $errors socket errors")
  fi
  awk -v n="$(field requests)" -v us="$(field duration_us)" -v p50="$(field p50_us)" -v p99="$(field p99_us)" \
    -v cpu=$((cpu_after - cpu_before)) -v ticks="$TICKS" 'BEGIN {
      printf "%.1f %.2f %.2f %.3f\n", n / (us / 1e6), p50 / 1000, p99 / 1000, n ? cpu / ticks * 1000 / n : 0 }'
}

results=()
for entry in "${ENDPOINTS[@]}"; do
  name="${entry%%|*}"; path="${entry#*|}"
  # measure runs in this shell (not a subshell), so that its failures are kept; its line goes to a file.
  measure "$name-api" "$BASE$path" >"$WORK/$name-api.result"
  measure "$name-static" "$BASE$STATIC_PREFIX$path" >"$WORK/$name-static.result"
  results+=("$name|$path|$(cat "$WORK/$name-api.result")|$(cat "$WORK/$name-static.result")")
done

echo "## Results"
echo
echo "| endpoint | API requests/s | API p50 | API p99 | static copy requests/s | static p50 | static p99 | API ÷ static |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for result in "${results[@]}"; do
  IFS='|' read -r name path api static <<<"$result"
  read -r a_rps a_p50 a_p99 _ <<<"$api"
  read -r s_rps s_p50 s_p99 _ <<<"$static"
  awk -v name="$name" -v path="$path" -v ar="$a_rps" -v a50="$a_p50" -v a99="$a_p99" \
    -v sr="$s_rps" -v s50="$s_p50" -v s99="$s_p99" 'BEGIN {
      printf "| %s `%s` | %.0f | %.1f ms | %.1f ms | %.0f | %.1f ms | %.1f ms | %.3f |\n",
        name, path, ar, a50, a99, sr, s50, s99, ar / sr }'
done
echo
echo "| endpoint | server CPU per request, API | server CPU per request, static copy |"
echo "|---|---:|---:|"
for result in "${results[@]}"; do
  IFS='|' read -r name path api static <<<"$result"
  read -r _ _ _ a_cpu <<<"$api"
  read -r _ _ _ s_cpu <<<"$static"
  awk -v name="$name" -v a="$a_cpu" -v s="$s_cpu" 'BEGIN { printf "| %s | %.2f ms | %.3f ms |\n", name, a, s }'
done
echo

if [ ${#failures[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "All checks passed."
