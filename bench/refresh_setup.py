"""The Django side of bench/refresh.sh: build the indicators, queue their refreshes, watch them, report.

    python bench/refresh_setup.py populate COUNT SOURCE_BASE   # COUNT JSON indicators: SOURCE_BASE/indicators/<n>
    python bench/refresh_setup.py queue                        # queue a refresh of every indicator (queue_refreshes)
    python bench/refresh_setup.py wait COUNT OUT.json PID...   # until COUNT refreshes are logged; CPU and lock samples
    python bench/refresh_setup.py report CONCURRENCY WAIT.json # one line of JSON: rate, durations, outcomes
    python bench/refresh_setup.py probe SOURCE_URL             # the source alone, and a database connection alone
    python bench/refresh_setup.py table RESULTS.jsonl COUNT    # the markdown tables of every pass; checks them

Run from the repository root with the environment bench/refresh.sh sets (DATABASE_URL, REDIS_URL, ...).
Numbers go to stdout as JSON, for the shell script to format; progress and problems go to stderr.
"""

import contextlib
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

if sys.argv[1:2] != ["table"]:  # formatting the tables needs no Django
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opengov.settings")

    import django

    django.setup()

    from django.conf import settings
    from django.db import connection

    from commitments.models import Commitment
    from indicators.models import (
        Indicator,
        IndicatorRefresh,
        IndicatorRefreshTrigger,
        IndicatorSourceFormat,
        IndicatorValue,
    )

TICKS = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- populate ---------------------------------------------------------------------------------------


def populate(count: int, source_base: str) -> None:
    """COUNT JSON indicators, spread over the reference data's commitments in blocks (as people enter them:
    a commitment's indicators together, so that neighbouring ids share a commitment)."""
    commitments = list(Commitment.objects.order_by("pk"))
    if not commitments:
        sys.exit("No commitment: run load_reference_data first.")
    per_commitment = -(-count // len(commitments))  # ceiling
    indicators = [
        Indicator(
            commitment=commitments[(n - 1) // per_commitment],
            name=f"Indicateur de banc {n}",
            unit="jeux de données",
            baseline_value=0,
            target_value=count + 1,
            source_format=IndicatorSourceFormat.JSON,
            source_url=f"{source_base}/indicators/{n}",
            source_selector="data.total",
        )
        for n in range(1, count + 1)
    ]
    Indicator.objects.bulk_create(indicators, batch_size=1000)
    used = len({indicator.commitment_id for indicator in indicators})
    print(json.dumps({"indicators": count, "commitments": used, "per_commitment": per_commitment}))


# --- queue ------------------------------------------------------------------------------------------


def queue() -> None:
    from indicators.tasks import queue_refreshes

    ids = list(Indicator.objects.order_by("pk").values_list("pk", flat=True))
    started = time.monotonic()
    # Outside a transaction, queue_refreshes publishes at once (transaction.on_commit runs immediately).
    queued = queue_refreshes(ids, trigger=IndicatorRefreshTrigger.SCHEDULE)
    print(json.dumps({"queued": queued, "seconds": round(time.monotonic() - started, 2)}))


# --- wait: CPU of each part, lock waits -------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def _own_ticks(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        with contextlib.suppress(OSError):
            found += [int(child) for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


def _postmaster_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_settings WHERE name = 'data_directory'")
        data_directory = cursor.fetchone()[0]
    return int(Path(data_directory, "postmaster.pid").read_text().split()[0])


def _postgres_ticks(postmaster: int) -> int:
    """Everything PostgreSQL spent: the postmaster, its live children, and (cutime + cstime) the children it
    has reaped, which are most of the backends here: the worker opens a connection per task."""
    fields = _stat(postmaster)
    reaped = int(fields[13]) + int(fields[14]) if fields else 0
    return reaped + sum(_own_ticks(pid) for pid in _tree(postmaster))


def _redis_seconds() -> float:
    import redis

    info = redis.Redis.from_url(settings.REDIS_URL).info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle, total


def _snapshot(worker: int, source: int, postmaster: int) -> dict:
    busy, total = _machine_ticks()
    return {
        "time": time.monotonic(),
        "worker": sum(_own_ticks(pid) for pid in _tree(worker)) / TICKS,
        "source": _own_ticks(source) / TICKS,
        "postgres": _postgres_ticks(postmaster) / TICKS,
        "redis": _redis_seconds(),
        "machine_busy": busy / TICKS,
        "machine_total": total / TICKS,
    }


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"  # a process that has exited stays a zombie until reaped


def wait(count: int, out: str, worker: int, source: int) -> None:
    """Until COUNT refreshes have given their final outcome (a failed attempt that will be retried does not
    count). CPU is taken when the first refresh is logged and when the last is; lock waits are sampled."""
    postmaster = _postmaster_pid()
    database = settings.DATABASES["default"]["NAME"]
    deadline_first = time.monotonic() + 120
    first = last = None
    done = previous = 0
    last_progress = time.monotonic()
    samples = waiting_samples = 0
    waiting_queries: Counter = Counter()
    while True:
        done = IndicatorRefresh.objects.filter(will_retry=False).count()
        now = time.monotonic()
        if done and first is None:
            first = _snapshot(worker, source, postmaster)
        if done >= count:
            last = _snapshot(worker, source, postmaster)
            break
        if done != previous:
            previous, last_progress = done, now
        if first is None and now > deadline_first:
            sys.exit("No refresh logged within 120 s of starting the worker.")
        if now - last_progress > 120:
            sys.exit(f"No progress for 120 s ({done} of {count} refreshes logged).")
        if not _alive(worker):
            sys.exit(f"The worker stopped ({done} of {count} refreshes logged).")
        if first is not None:
            # Which of the worker's database sessions wait for a lock held by another session, and on what.
            with connection.cursor() as cursor:
                # The start of the statement only: PostgreSQL keeps its first kilobyte (track_activity_query_size).
                cursor.execute(
                    "SELECT wait_event || ': ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 60) "
                    "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'",
                    [database],
                )
                rows = cursor.fetchall()
            samples += 1
            if rows:
                waiting_samples += 1
                waiting_queries.update(row[0] for row in rows)
        time.sleep(0.1)
    cpu = {key: round(last[key] - first[key], 2) for key in first if key != "time"}
    cpu["window"] = round(last["time"] - first["time"], 2)
    result = {
        "cpu": cpu,
        "lock_samples": samples,
        "lock_waiting_samples": waiting_samples,
        "lock_queries": waiting_queries.most_common(5),
    }
    Path(out).write_text(json.dumps(result))


# --- report -----------------------------------------------------------------------------------------


def _percentile(values: list[int], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(concurrency: int, wait_file: str) -> None:
    rows = list(IndicatorRefresh.objects.values_list("started_at", "duration_ms", "outcome", "attempt", "message"))
    durations = [row[1] for row in rows]
    start = min(row[0] for row in rows)
    end = max(row[0].timestamp() + row[1] / 1000 for row in rows)
    seconds = end - start.timestamp()
    outcomes = Counter(row[2] for row in rows)
    errors = Counter(row[4][:160] for row in rows if row[2] == "error")
    per_indicator = Counter(IndicatorRefresh.objects.values_list("indicator_id", flat=True))
    waited = json.loads(Path(wait_file).read_text())
    print(
        json.dumps(
            {
                "refreshes": len(rows),
                "indicators_refreshed": len(per_indicator),
                "refreshed_more_than_once": sum(1 for n in per_indicator.values() if n > 1),
                "retries": sum(1 for row in rows if row[3] > 1),
                "outcomes": dict(outcomes),
                "errors": errors.most_common(3),
                "values": IndicatorValue.objects.count(),
                "seconds": round(seconds, 2),
                "rate": round(len(rows) / seconds, 1),
                "median_ms": statistics.median(durations),
                "p90_ms": _percentile(durations, 0.9),
                "p99_ms": _percentile(durations, 0.99),
                # Share of the worker processes' time spent inside refresh_indicator (its duration_ms); the rest
                # is Celery: taking the message, handing it to the pool process, acknowledging it.
                "in_refresh": round(sum(durations) / 1000 / (seconds * concurrency), 3),
                **waited,
            }
        )
    )


# --- probe: the parts alone -------------------------------------------------------------------------


def _fetch_loop(url: str, seconds: float) -> int:
    from indicators.fetch import JSON_TYPES, fetch

    done, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        fetch(url, accept=JSON_TYPES)
        done += 1
    return done


def probe(url: str) -> None:
    """The parts alone. The source read with the reader the refreshes use (indicators.fetch), one reading after
    the other and from two processes at once; a database connection opened and closed, as the worker does
    around every task; and refresh_indicator run in this process (no Celery), on a new connection each time
    (as in the worker) and on one kept open, with the CPU PostgreSQL spent per refresh. Refreshes the first
    400 indicators (200 each way): run on a copy of the template, which the runs then replace."""
    import multiprocessing

    from indicators.fetch import JSON_TYPES, fetch
    from indicators.refresh import refresh_indicator

    fetch(url, accept=JSON_TYPES)
    timings = []
    for _ in range(500):
        started = time.perf_counter()
        fetch(url, accept=JSON_TYPES)
        timings.append((time.perf_counter() - started) * 1000)
    connection.close()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        counts = pool.starmap(_fetch_loop, [(url, 3.0), (url, 3.0)])
    connects = []
    for _ in range(100):
        started = time.perf_counter()
        connection.ensure_connection()
        connection.close()
        connects.append((time.perf_counter() - started) * 1000)
    postmaster = _postmaster_pid()
    # Two equal batches of up to 200 first readings each (fewer when BENCH_COUNT is small).
    ids = list(Indicator.objects.order_by("pk").values_list("pk", flat=True)[:400])
    half = len(ids) // 2
    if half == 0:
        raise SystemExit("probe: needs at least 2 indicators")
    measured = {}
    for new_connection, batch in ((True, ids[:half]), (False, ids[half : 2 * half])):
        connection.ensure_connection()
        pg_before, timings_batch = _postgres_ticks(postmaster), []
        for indicator_id in batch:
            if new_connection:
                connection.close()
            started = time.perf_counter()
            refresh_indicator(indicator_id, trigger=IndicatorRefreshTrigger.COMMAND)
            timings_batch.append((time.perf_counter() - started) * 1000)
        connection.close()
        time.sleep(0.5)  # the backends' CPU is counted once they have exited
        pg_cpu = (_postgres_ticks(postmaster) - pg_before) * 1000 / TICKS / len(batch)
        measured[new_connection] = (statistics.median(timings_batch), pg_cpu)
    print(
        json.dumps(
            {
                "fetch_ms": round(statistics.median(timings), 2),
                "fetch_per_second_2_processes": round(sum(counts) / 3.0),
                "connect_ms": round(statistics.median(connects), 2),
                "refresh_new_connection_ms": round(measured[True][0], 1),
                "refresh_new_connection_pg_cpu_ms": round(measured[True][1], 1),
                "refresh_same_connection_ms": round(measured[False][0], 1),
                "refresh_same_connection_pg_cpu_ms": round(measured[False][1], 1),
            }
        )
    )


# --- table: the report -----------------------------------------------------------------------------

EXPECTED = {"first": "new_value", "second": "unchanged"}


def _busy(r: dict) -> float:
    """Share of the machine's CPUs busy during the pass."""
    return r["cpu"]["machine_busy"] / r["cpu"]["machine_total"]


def _other(r: dict) -> float:
    """Share of the machine's CPUs busy with something else than the workers, the source, PostgreSQL and Redis:
    another program running at the same time (PostgreSQL's share counts every database of the server, so
    another program's queries count as ours)."""
    ours = sum(r["cpu"][key] for key in ("worker", "source", "postgres", "redis"))
    return max(0.0, r["cpu"]["machine_busy"] - ours) / r["cpu"]["machine_total"]


def table(results_file: str, count: int) -> None:
    """Markdown tables of every pass, then the median per number of workers and pass. Exits non-zero when a
    pass did not end with exactly one refresh per indicator, all with the expected outcome."""
    results = [json.loads(line) for line in Path(results_file).read_text().splitlines() if line.strip()]
    failures = []
    print(
        "| workers | run | pass | load average at start | refreshes | seconds | refreshes/s | median duration_ms "
        "| p90 | p99 | time in refresh_indicator | machine busy | other work on the machine |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['workers']} | {r['run']} | {r['pass']} | {r['load']} | {r['refreshes']} | {r['seconds']:.1f} "
            f"| {r['rate']:.1f} | {r['median_ms']:g} ms | {r['p90_ms']} ms | {r['p99_ms']} ms "
            f"| {r['in_refresh'] * 100:.0f} % | {_busy(r) * 100:.0f} % | {_other(r) * 100:.0f} % |"
        )
        expected = EXPECTED[r["pass"]]
        if r["refreshes"] != count or r["indicators_refreshed"] != count or r["outcomes"] != {expected: count}:
            failures.append(
                f"{r['workers']} worker(s), run {r['run']}, {r['pass']} pass: {r['refreshes']} refreshes of "
                f"{r['indicators_refreshed']} indicators, outcomes {r['outcomes']}, errors {r['errors']}"
            )
    print()
    print("| workers | pass | refreshes/s of each run | refreshes/s, median | median duration_ms, median |")
    print("|---:|---|---:|---:|---:|")
    groups: dict[tuple, list] = {}
    for r in results:
        groups.setdefault((r["workers"], r["pass"]), []).append(r)
    for (workers, pass_), runs in groups.items():
        rates = ", ".join(f"{r['rate']:.1f}" for r in runs)
        print(
            f"| {workers} | {pass_} | {rates} | **{statistics.median(r['rate'] for r in runs):.1f}** "
            f"| {statistics.median(r['median_ms'] for r in runs):g} ms |"
        )
    print()
    # CPU milliseconds per refresh, from /proc (workers, source, PostgreSQL) and Redis's INFO, over the
    # window from the first refresh logged to the last; the machine's busy share over the same window.
    print(
        "| workers | pass | CPU per refresh: workers | PostgreSQL | Redis | source | machine busy "
        "| other work on the machine | samples with a session waiting for a lock |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for (workers, pass_), runs in groups.items():

        def per_refresh(key: str, runs: list = runs) -> str:
            return f"{statistics.median(r['cpu'][key] * 1000 / r['refreshes'] for r in runs):.1f} ms"

        def waiting(r: dict) -> float:
            return r["lock_waiting_samples"] / max(1, r["lock_samples"])

        print(
            f"| {workers} | {pass_} | {per_refresh('worker')} | {per_refresh('postgres')} | {per_refresh('redis')} "
            f"| {per_refresh('source')} | {statistics.median(_busy(r) for r in runs) * 100:.0f} % "
            f"| {statistics.median(_other(r) for r in runs) * 100:.0f} % "
            f"| {statistics.median(waiting(r) for r in runs) * 100:.0f} % |"
        )
    print()
    waits = Counter()
    for r in results:
        for query, seen in r["lock_queries"]:
            waits[query] += seen
    if waits:
        print("Statements seen waiting for a lock (samples, all runs):")
        print()
        for query, seen in waits.most_common(5):
            print(f"- {seen}: `{query}`")
        print()
    if failures:
        for failure in failures:
            print(f"FAILED: {failure}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "populate":
        populate(int(args[0]), args[1])
    elif command == "queue":
        queue()
    elif command == "wait":
        wait(int(args[0]), args[1], int(args[2]), int(args[3]))
    elif command == "report":
        report(int(args[0]), args[1])
    elif command == "probe":
        probe(args[0])
    elif command == "table":
        table(args[0], int(args[1]))
    else:
        sys.exit(f"Unknown command {command}")
