#!/usr/bin/env bash
# The workspace at the scale of every OGP member (issue 9): every list of the admin for the project's own models,
# asked by a coordinator (every row: 4 million indicator values, 20,000 contributions...) and by an editor (their
# administration's rows), on the synthetic data at scale: median time, queries and size of the page. The points
# that are public pages and API lists are bench/scale.sh's; the workspace is not cached (its people are signed
# in), so that what a list costs is what each of its readers waits.
#
#   bash bench/workspace.sh                                   # builds the data (about 3 minutes), then measures
#   BENCH_SCALE_DATABASE=opengov_scale bash bench/workspace.sh   # a database built as below: migrated, never dropped
#   BENCH_REPEAT=5 bash bench/workspace.sh                    # fewer timed requests a list (15 by default)
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, no password). The database it builds, opengov_bench_workspace
# (migrate, generate_scale_data), is dropped at the end; a given one is only migrated. The two people are created
# in a transaction that is rolled back (bench/workspace_times.py). Prints a markdown table (see docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT="${BENCH_REPEAT:-15}"
SCALE_DATABASE="${BENCH_SCALE_DATABASE:-}"
HOST=127.0.0.1

# shellcheck source=bench/instance.sh
source "$(dirname "$0")/instance.sh"
# shellcheck source=bench/postgres.sh
source "$(dirname "$0")/postgres.sh"
# The people are signed in without their second factor, which the workspace asks of them when DEBUG is off.
export OTP_REQUIRED=false

if [ -z "$SCALE_DATABASE" ]; then
  SCALE_DATABASE=opengov_bench_workspace
  create_database "$SCALE_DATABASE"
  log "Generating the data at scale in $SCALE_DATABASE (generate_scale_data: about two minutes)..."
  DATABASE_URL="$PG/$SCALE_DATABASE" setup_step .venv/bin/python manage.py migrate --noinput
  DATABASE_URL="$PG/$SCALE_DATABASE" setup_step .venv/bin/python manage.py generate_scale_data
else
  DATABASE_URL="$PG/$SCALE_DATABASE" setup_step .venv/bin/python manage.py migrate --noinput
fi
psql "$PG/$SCALE_DATABASE" -v ON_ERROR_STOP=1 -qc "VACUUM ANALYZE" >/dev/null
setup_step .venv/bin/python manage.py collectstatic --noinput

machine_header
echo "- settings: DEBUG off, no second factor asked, local-memory cache; the project's WSGI application in process"
echo "- $REPEAT timed requests a list and person, after one unmeasured; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
.venv/bin/python bench/workspace_times.py "$PG/$SCALE_DATABASE" --repeat "$REPEAT"
