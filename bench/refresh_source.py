"""A local JSON source for bench/refresh.sh: answers every GET with {"data": {"total": N}}, fast.

    python bench/refresh_source.py PORT_FILE

Listens on a free port of 127.0.0.1, writes that port to PORT_FILE once it accepts connections, and
serves until it is stopped (SIGTERM or SIGINT). N is the last number in the path (/indicators/42 gives
42, /indicators/42?v=2 also 42), so that each indicator has its own value and a second reading of the
same URL gives the same figure ("unchanged"); a path without a number gives 0.

One process, one thread, asyncio with a bare protocol: no http.server, no thread per connection. The
indicator reader (indicators/fetch.py) opens one connection per reading and sends a plain GET with no
body, so this reads up to the end of the request's head, answers, and closes. Per connection it costs a
few tens of microseconds of CPU, so that the source is not what the benchmark measures; the script
checks this (the source's own CPU time is reported beside the workers').
"""

import asyncio
import json
import re
import signal
import socket
import sys

_NUMBER = re.compile(rb"(\d+)(?:\?[^ ]*)? HTTP/")
_MAX_HEAD = 16 * 1024


def answer(request_line: bytes) -> bytes:
    match = _NUMBER.search(request_line)
    total = int(match.group(1)) if match else 0
    body = json.dumps({"data": {"total": total}}).encode()
    return (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Connection: close\r\n"
        b"\r\n" + body
    )


class Source(asyncio.Protocol):
    served = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.head = b""

    def data_received(self, data: bytes) -> None:
        self.head += data
        if b"\r\n\r\n" in self.head:
            request_line = self.head.split(b"\r\n", 1)[0]
            if request_line.startswith(b"GET "):
                self.transport.write(answer(request_line))
            else:
                self.transport.write(
                    b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            Source.served += 1
            self.transport.close()
        elif len(self.head) > _MAX_HEAD:
            self.transport.close()


async def main(port_file: str) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = await loop.create_server(Source, sock=sock, backlog=1024)
    with open(port_file, "w") as out:
        out.write(f"{sock.getsockname()[1]}\n")
    await stop
    server.close()
    print(f"served {Source.served} requests", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
