"""A real HTTP server on 127.0.0.1 that plays indicator sources, good and bad, for the tests."""

import gzip
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds before the answer starts (a source slower than the time-out).
    delay: float = 0.0
    # Bytes sent per second once it starts (a source that trickles); 0 sends at once.
    trickle: int = 0
    # False: no Content-Length, the body ends when the connection closes.
    announce_length: bool = True
    # Answers used in turn, the last one repeating: a source that fails, then recovers.
    then: list["Route"] = field(default_factory=list)


class SourceServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        self.requests: list[dict[str, str]] = []
        self.arrived = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path
                count = server.hits.get(path, 0)
                server.hits[path] = count + 1
                server.requests.append({"path": path, **{k.lower(): v for k, v in self.headers.items()}})
                server.arrived.set()
                route = server.routes.get(path)
                if route is None:
                    route = Route(status=404, body=b'{"message": "not found"}')
                elif route.then:
                    sequence = [route, *route.then]
                    route = sequence[min(count, len(sequence) - 1)]
                time.sleep(route.delay)
                try:
                    self.send_response(route.status)
                    self.send_header("Content-Type", route.content_type)
                    for name, value in route.headers.items():
                        self.send_header(name, value)
                    if route.announce_length:
                        self.send_header("Content-Length", str(len(route.body)))
                    else:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    if route.trickle:
                        for start in range(0, len(route.body), route.trickle):
                            self.wfile.write(route.body[start : start + route.trickle])
                            self.wfile.flush()
                            time.sleep(1)
                    else:
                        self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                # A client that hangs up on purpose (a time-out, a cap) is what these tests provoke.
                pass

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def set(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)


def gzip_bomb(size: int) -> bytes:
    """A few kilobytes that expand to `size` bytes."""
    return gzip.compress(b"0" * size, compresslevel=9)


@pytest.fixture
def source_server(settings: object) -> Iterator[SourceServer]:
    """The server, with 127.0.0.0/8 exempted from the address refusal as the setting allows for tests."""
    settings.INDICATOR_SOURCES_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    server = SourceServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
