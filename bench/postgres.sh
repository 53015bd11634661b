# Shared by the bench/ scripts that run on PostgreSQL (127.0.0.1:5432, user postgres, no password): throw-away
# databases, dropped at exit with the rest of the instance. Sourced after bench/instance.sh (or bench/common.sh).

PG="postgres://postgres@127.0.0.1:5432"
export PGOPTIONS="-c client_min_messages=warning"  # no NOTICE for a database that is not there to drop
command -v psql >/dev/null || { log "psql is needed (Debian package postgresql-client)"; exit 1; }
pg_isready -q -h 127.0.0.1 -p 5432 || { log "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1; }
psql_admin() { psql "$PG/postgres" -v ON_ERROR_STOP=1 -qAtc "$1"; }

# create_database NAME: a new, empty database, dropped at exit; one left over by a killed run is dropped first.
# Only the databases created here are dropped, never one a script was given.
CREATED_DATABASES=()
create_database() {
  psql_admin "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
  psql_admin "CREATE DATABASE $1" >/dev/null
  CREATED_DATABASES+=("$1")
}
# The instance's cleanup (its server stopped, its temporary directory removed), then the databases.
eval "instance_$(declare -f cleanup)"
cleanup() {
  local database
  instance_cleanup
  for database in "${CREATED_DATABASES[@]}"; do
    psql_admin "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  done
}

# setup_step COMMAND...: runs it with its output in $WORK/setup.log, shown (and the script stopped) if it fails.
setup_step() { "$@" >>"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; exit 1; }; }
