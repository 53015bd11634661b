"""Times and query counts of every public page and API list on two databases, for bench/scale.sh (issue 9, point 2).

One process per database, each with Django as deployed: the project's WSGI application, every middleware, the
settings the environment gives (bench/scale.sh sets DEBUG off, no page cache, no Redis). The pages are those of
commitments/scale_pages.py, each process finding its own busiest objects. This process asks both in turn, one
request at a time (reference, scale, then scale, reference...), so that a disturbance of the machine hits both
alike; each times the request inside its own process: from the call to the application to the last byte of the
body. For each page: one unmeasured request on each side (which must answer 200), then REPEAT timed ones, then one
whose queries are counted.

    python bench/scale_times.py REFERENCE_DATABASE_URL SCALE_DATABASE_URL OUTPUT.json [--repeat 51]
    python bench/scale_times.py --baseline small SMALL_DATABASE_URL SCALE_DATABASE_URL OUTPUT.json

The first database holds the reference data (the bar), or with --baseline small the synthetic data at a smaller
size, whose pages are as full as at scale: what its ratios show is the growth with the data alone.

Writes every time to OUTPUT.json and prints the markdown report. Exits 1 if a page does not answer 200.
"""

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

ROOT = Path(__file__).resolve().parent.parent
SIDES = ("reference", "scale")
# What the first database may hold.
BASELINES = ("reference", "small")
# Issue 9, point 2: at most this many times the median with the reference data.
BAR_RATIO = 1.5
PATH_WIDTH = 34  # a path longer than this is shortened in the table (the JSON has it whole)


# --- In each measuring process ---------------------------------------------------------------------


def _serve(connection: Connection, database_url: str) -> None:
    """Set Django up on one database, then answer the commands of the process that started this one."""
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opengov.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection as database
    from django.test.utils import CaptureQueriesContext

    from commitments.scale_pages import pages_to_measure
    from opengov.wsgi import application

    if settings.DEBUG or settings.PAGE_CACHE_ENABLED:
        raise RuntimeError("The pages are measured with DEBUG and the page cache off (see bench/scale.sh).")
    pages = pages_to_measure()

    def request(kind: str) -> dict[str, Any]:
        path, _, query = pages[kind].partition("?")
        # As wrk and the other bench/ scripts ask: plain HTTP on the loopback, no Accept, no cookie.
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "wsgi.input": io.BytesIO()}
        environ |= {"HTTP_HOST": "127.0.0.1", "SERVER_NAME": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1"}
        setup_testing_defaults(environ)
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
            answer["status"] = int(status.split()[0])

        started = time.perf_counter()
        body = application(environ, start_response)
        try:
            answer["bytes"] = sum(len(chunk) for chunk in body)
        finally:
            getattr(body, "close", lambda: None)()  # request_finished: what the server does after the last byte
        answer["ms"] = (time.perf_counter() - started) * 1000
        return answer

    def count(kind: str) -> dict[str, Any]:
        with CaptureQueriesContext(database) as queries:
            answer = request(kind)
        return answer | {"queries": len(queries)}

    commands = {"pages": lambda: pages, "sizes": _sizes, "request": request, "count": count}
    while True:
        command, *arguments = connection.recv()
        if command == "stop":
            return
        connection.send(commands[command](*arguments))


def _sizes() -> dict[str, int]:
    from commitments.models import ActionPlan, Administration, Commitment, Milestone
    from forums.models import Contribution, Forum
    from indicators.models import Indicator, IndicatorValue

    models = {
        "plans": ActionPlan,
        "administrations": Administration,
        "commitments": Commitment,
        "milestones": Milestone,
        "indicators": Indicator,
        "indicator values": IndicatorValue,
        "forums": Forum,
        "contributions": Contribution,
        # The reference data was entered with its history; the synthetic rows have none (scale_data.py).
        "history rows of commitments": Commitment.history.model,
    }
    return {name: model.objects.count() for name, model in models.items()}


class Side:
    """One measuring process, and how to ask it something."""

    def __init__(self, name: str, database_url: str) -> None:
        self.name, self.database = name, urlsplit(database_url).path.lstrip("/")
        self.connection, theirs = multiprocessing.Pipe()
        # A fresh interpreter (spawn): the process loads its own Django, settings and database connection.
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(theirs, database_url), name=f"scale-times-{name}"
        )
        self.process.start()

    def ask(self, *command: object) -> Any:
        self.connection.send(command)
        try:
            return self.connection.recv()
        except (EOFError, ConnectionError):
            self.process.join(timeout=5)
            raise RuntimeError(f"The {self.name} process stopped (exit code {self.process.exitcode}).") from None

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(ConnectionError):  # it stopped meanwhile
                self.connection.send(("stop",))
        self.process.join(timeout=30)


# --- Here ------------------------------------------------------------------------------------------


def measure(sides: dict[str, Side], repeat: int) -> dict[str, Any]:
    pages = {name: side.ask("pages") for name, side in sides.items()}
    kinds = list(pages["reference"])
    results: dict[str, dict[str, Any]] = {kind: {} for kind in kinds}
    failures = []
    # Every page once on each side, before minutes are spent timing: an error would make the times meaningless.
    for kind in kinds:
        for name, side in sides.items():
            first = side.ask("request", kind)
            results[kind][name] = {"path": pages[name][kind], "status": first["status"], "bytes": first["bytes"]}
            if first["status"] != 200:
                failures.append(f"{name} {kind} {pages[name][kind]}: status {first['status']}, not 200")
    if failures:
        return {"pages": results, "failures": failures}

    for position, kind in enumerate(kinds, start=1):
        print(f"[{position}/{len(kinds)}] {kind}", file=sys.stderr, flush=True)
        times: dict[str, list[float]] = {name: [] for name in sides}
        for round_number in range(repeat):
            # Each side goes first every other round: neither always follows the other's request.
            order = SIDES if round_number % 2 == 0 else SIDES[::-1]
            for name in order:
                answer = sides[name].ask("request", kind)
                if answer["status"] != 200:
                    failures.append(f"{name} {kind}: status {answer['status']} on a repeated request")
                times[name].append(answer["ms"])
        for name, side in sides.items():
            counted = side.ask("count", kind)
            results[kind][name] |= {
                "queries": counted["queries"],
                "median_ms": statistics.median(times[name]),
                "p90_ms": _p90(times[name]),
                "times_ms": [round(ms, 2) for ms in times[name]],
            }
    return {"pages": results, "failures": failures}


def _p90(times: list[float]) -> float:
    return statistics.quantiles(times, n=10, method="inclusive")[-1] if len(times) > 1 else times[0]


def _number(count: int) -> str:
    return f"{count:,}".replace(",", " ")


def _short(path: str) -> str:
    if len(path) <= PATH_WIDTH:
        return path
    keep = (PATH_WIDTH - 1) // 2
    return f"{path[:keep]}…{path[-keep:]}"


def verdict(reference: dict[str, Any], scale: dict[str, Any]) -> str:
    missed = []
    if scale["queries"] != reference["queries"]:
        missed.append("queries")
    if scale["median_ms"] > BAR_RATIO * reference["median_ms"]:
        missed.append("time")
    return f"FAIL ({', '.join(missed)})" if missed else "PASS"


def report(run: dict[str, Any]) -> None:
    """The markdown report: the data sets, then a row per page."""
    sets = run["data sets"]
    name = run["baseline"]
    short = "ref" if name == "reference" else name
    if name == "reference":
        print("## Data")
    else:
        print("## Growth with the data alone: the same synthetic data, 20 times smaller")
    print()
    print(f"| rows | {name} (`{sets['reference']['database']}`) | scale (`{sets['scale']['database']}`) |")
    print("|---|---:|---:|")
    for table, count in sets["reference"]["sizes"].items():
        print(f"| {table} | {_number(count)} | {_number(sets['scale']['sizes'][table])} |")
    print()
    pages = run["pages"]
    verdicts = {kind: verdict(sides["reference"], sides["scale"]) for kind, sides in pages.items()}
    passed = sum(result == "PASS" for result in verdicts.values())
    heading = "## Results" if name == "reference" else "### Results against the smaller data"
    print(f"{heading}: {passed} of {len(pages)} pass")
    print()
    print(
        f"{run['repeat']} timed requests per page and data set, after one unmeasured; PASS: as many queries at"
        f" scale, and a median at most {BAR_RATIO} times the {name} data's."
    )
    print()
    print(
        f"| kind | path ({name} / scale) | queries | median {short} | median scale | ratio | p90 {short} | p90 scale"
        f" | bytes {short} → scale | verdict |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for kind, sides in pages.items():
        ref, scale = sides["reference"], sides["scale"]
        paths = f"`{_short(ref['path'])}`"
        if scale["path"] != ref["path"]:
            paths += f" / `{_short(scale['path'])}`"
        print(
            f"| {kind} | {paths} | {ref['queries']} → {scale['queries']} | {ref['median_ms']:.1f} ms"
            f" | {scale['median_ms']:.1f} ms | {scale['median_ms'] / ref['median_ms']:.2f}"
            f" | {ref['p90_ms']:.1f} ms | {scale['p90_ms']:.1f} ms"
            f" | {_number(ref['bytes'])} → {_number(scale['bytes'])} | {verdicts[kind]} |"
        )
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference", help="database URL of the reference data (or the smaller: --baseline small)")
    parser.add_argument("scale", help="database URL of the data at scale")
    parser.add_argument("output", type=Path, help="where to write every time, as JSON")
    parser.add_argument("--repeat", type=int, default=51, help="timed requests per page and data set")
    parser.add_argument("--baseline", choices=BASELINES, default="reference", help="what the first database holds")
    arguments = parser.parse_args()

    sides = {name: Side(name, getattr(arguments, name)) for name in SIDES}
    try:
        sets = {name: {"database": side.database, "sizes": side.ask("sizes")} for name, side in sides.items()}
        run = {"repeat": arguments.repeat, "bar_ratio": BAR_RATIO, "baseline": arguments.baseline, "data sets": sets}
        run |= measure(sides, arguments.repeat)
    finally:
        for side in sides.values():
            side.stop()
    arguments.output.write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if run["failures"]:
        print("\n".join(f"FAILED: {failure}" for failure in run["failures"]), file=sys.stderr)
        return 1
    report(run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
