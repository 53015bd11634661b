"""For bench/api.sh only, never deployed: the project's WSGI application, plus a static copy of some answers.

A request under /static-copy/ gets the bytes bench/api.sh saved from the API for the rest of its path and
query (/static-copy/api/v1/commitments/?page_size=50 answers what /api/v1/commitments/?page_size=50
answered), with the status and headers the API sent. The body is read from its file on every request and
handed to the server as a file (gunicorn sends it with sendfile), as a static-file server would. Every other
request goes to Django as usual. Both kinds are answered by the same gunicorn workers, so the difference
between them is what the API costs above receiving a request and sending the bytes.
"""

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from opengov.wsgi import application as django_application

PREFIX = "/static-copy"
# Headers the server sets itself, whoever answers.
SERVER_HEADERS = {"connection", "date", "server", "transfer-encoding", "keep-alive"}

Copy = tuple[str, list[tuple[str, str]], Path]
_copies: dict[str, Copy] | None = None


def _load(folder: Path) -> dict[str, Copy]:
    """index.tsv: one line per copy, `<path and query>\\t<name>`, with <name>.headers (as curl -D wrote them)
    and <name>.body beside it."""
    copies = {}
    for line in (folder / "index.tsv").read_text(encoding="utf-8").splitlines():
        target, name = line.split("\t")
        status_line, *lines = (folder / f"{name}.headers").read_text(encoding="latin-1").splitlines()
        status = status_line.split(" ", 1)[1].strip()
        headers = []
        for header in filter(None, lines):
            key, value = header.split(":", 1)
            if key.lower() not in SERVER_HEADERS:
                headers.append((key, value.strip()))
        copies[target] = (status, headers, folder / f"{name}.body")
    return copies


def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    global _copies
    path = environ.get("PATH_INFO", "")
    if not path.startswith(PREFIX + "/"):
        return django_application(environ, start_response)
    if _copies is None:  # once per worker, at its first static request (the benchmark's warm-up)
        _copies = _load(Path(os.environ["BENCH_STATIC_COPY"]))
    query = environ.get("QUERY_STRING", "")
    copy = _copies.get(path.removeprefix(PREFIX) + (f"?{query}" if query else ""))
    if copy is None:
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]
    status, headers, body = copy
    start_response(status, headers)
    # gunicorn's file wrapper: sent with sendfile, and the file closed by the server once sent.
    return environ["wsgi.file_wrapper"](body.open("rb"), 65536)
