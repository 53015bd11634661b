"""Reading a source safely: the address rules, and the faults of a real local server."""

import gzip
import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from indicators.fetch import CSV_TYPES, JSON_TYPES, SourceError, address_refusal, check_url, fetch
from tests.indicators.source_server import Route, gzip_bomb

# Messages are matched on their English source text; tests/test_translations.py checks their French.
pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata service
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "198.18.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 form of 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 form of 127.0.0.1
        "64:ff9b:1::1",
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "2001:db8::1",
        "::127.0.0.1",  # IPv4-compatible
    ],
)
def test_addresses_that_are_not_public_are_refused(settings, address: str) -> None:
    settings.INDICATOR_SOURCES_ALLOWED_NETWORKS = []
    assert address_refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["194.5.10.20", "8.8.8.8", "2a01:4f8::1", "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(settings, address: str) -> None:
    settings.INDICATOR_SOURCES_ALLOWED_NETWORKS = []
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_the_setting_exempts_named_networks_and_their_mapped_forms(settings) -> None:
    settings.INDICATOR_SOURCES_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert address_refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert address_refusal(ipaddress.ip_address("::ffff:10.20.3.4")) is None
    assert address_refusal(ipaddress.ip_address("10.21.0.1")) is not None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.org/a.csv", "http"),
        ("file:///etc/passwd", "http"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "http"),
        ("http:///nohost", "host"),
        ("https://user:secret@example.org/a.json", "password"),
        ("http://example.org:99999/", "not valid"),
        ("http://127.0.0.1/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://2130706433/", "loopback"),  # 127.0.0.1 written as one number
        ("http://0x7f.1/", "loopback"),
    ],
)
def test_urls_are_checked_before_any_connection(settings, url: str, words: str) -> None:
    settings.INDICATOR_SOURCES_ALLOWED_NETWORKS = []
    settings.LANGUAGE_CODE = "en"
    with pytest.raises(SourceError) as raised:
        check_url(url)
    assert words in raised.value.message
    assert not raised.value.transient


def test_a_host_name_that_resolves_to_loopback_is_refused(source_server, settings) -> None:
    settings.INDICATOR_SOURCES_ALLOWED_NETWORKS = []
    source_server.set("/count.json", Route(body=b'{"total": 1}'))
    with pytest.raises(SourceError, match="localhost"):
        fetch(f"http://localhost:{source_server.port}/count.json", accept=JSON_TYPES)
    assert source_server.hits == {}


def test_the_connection_goes_to_the_address_that_was_checked(source_server, monkeypatch) -> None:
    """The name is resolved once, by the check; the connection uses that address and names the host."""
    resolved = []

    def resolver(host, port, *args, **kwargs):
        resolved.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    source_server.set("/count.json", Route(body=b'{"total": 7}'))
    fetched = fetch(f"http://sources.example:{source_server.port}/count.json", accept=JSON_TYPES)
    assert json.loads(fetched.body) == {"total": 7}
    assert resolved == ["sources.example"]
    assert source_server.requests[0]["host"] == f"sources.example:{source_server.port}"


def test_a_redirect_to_a_private_address_is_refused(source_server) -> None:
    source_server.set(
        "/moved", Route(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}, body=b"")
    )
    with pytest.raises(SourceError, match=r"169\.254\.169\.254") as raised:
        fetch(source_server.url("/moved"), accept=JSON_TYPES)
    assert not raised.value.transient


def test_redirects_are_followed_three_times_at_most(source_server) -> None:
    for hop in range(4):
        source_server.set(f"/r{hop}", Route(status=301, headers={"Location": f"/r{hop + 1}"}))
    source_server.set("/r4", Route(body=b'{"total": 1}'))
    source_server.set("/r1-ok", Route(status=307, headers={"Location": "/r4"}))
    assert json.loads(fetch(source_server.url("/r1-ok"), accept=JSON_TYPES).body) == {"total": 1}
    with pytest.raises(SourceError, match="3"):
        fetch(source_server.url("/r0"), accept=JSON_TYPES)
    assert source_server.hits.get("/r4") == 1


def test_a_server_error_is_transient_and_a_client_error_permanent(source_server) -> None:
    source_server.set("/broken", Route(status=500, body=b"oops", content_type="text/plain"))
    source_server.set("/gone", Route(status=404, body=b"{}"))
    with pytest.raises(SourceError, match="500") as server_error:
        fetch(source_server.url("/broken"), accept=JSON_TYPES)
    assert server_error.value.transient
    with pytest.raises(SourceError, match="404") as client_error:
        fetch(source_server.url("/gone"), accept=JSON_TYPES)
    assert not client_error.value.transient


def test_a_refused_connection_is_transient(settings) -> None:
    settings.INDICATOR_SOURCES_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceError) as raised:
        fetch(f"http://127.0.0.1:{port}/", accept=JSON_TYPES)
    assert raised.value.transient


def test_a_source_slower_than_the_timeout_is_cut_off(source_server, settings) -> None:
    settings.INDICATOR_SOURCE_CONNECT_TIMEOUT = 0.5
    settings.INDICATOR_SOURCE_READ_TIMEOUT = 0.5
    source_server.set("/slow", Route(body=b'{"total": 1}', delay=3))
    started = time.monotonic()
    with pytest.raises(SourceError) as raised:
        fetch(source_server.url("/slow"), accept=JSON_TYPES)
    assert raised.value.transient
    assert time.monotonic() - started < 2.5


def test_a_source_that_trickles_is_cut_off_at_the_deadline(source_server, settings) -> None:
    settings.INDICATOR_SOURCE_CONNECT_TIMEOUT = 0.5
    settings.INDICATOR_SOURCE_READ_TIMEOUT = 1.0
    source_server.set("/trickle", Route(body=b'{"total": 12345678901234567890}', trickle=2))
    started = time.monotonic()
    with pytest.raises(SourceError, match="within"):
        fetch(source_server.url("/trickle"), accept=JSON_TYPES)
    assert time.monotonic() - started < 3.5


def test_a_huge_body_is_refused(source_server, settings) -> None:
    settings.INDICATOR_SOURCE_MAX_BYTES = 100_000
    source_server.set("/huge", Route(body=b"[" + b"1," * 100_000 + b"1]"))
    # The same, without announcing its length: the cap holds while reading.
    source_server.set("/huge-unannounced", Route(body=b"[" + b"1," * 100_000 + b"1]", announce_length=False))
    for path in ("/huge", "/huge-unannounced"):
        with pytest.raises(SourceError, match="100000"):
            fetch(source_server.url(path), accept=JSON_TYPES)
    source_server.set("/small-unannounced", Route(body=b'{"total": 2}', announce_length=False))
    assert json.loads(fetch(source_server.url("/small-unannounced"), accept=JSON_TYPES).body) == {"total": 2}


def test_a_gzip_bomb_is_stopped_at_the_cap(source_server, settings) -> None:
    settings.INDICATOR_SOURCE_MAX_BYTES = 1_000_000
    bomb = gzip_bomb(50_000_000)
    assert len(bomb) < 100_000
    source_server.set("/bomb.json", Route(body=bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(SourceError, match="1000000") as raised:
        fetch(source_server.url("/bomb.json"), accept=JSON_TYPES)
    assert not raised.value.transient


def test_a_gzipped_answer_is_read(source_server) -> None:
    source_server.set("/small.json", Route(body=gzip.compress(b'{"total": 3}'), headers={"Content-Encoding": "gzip"}))
    assert json.loads(fetch(source_server.url("/small.json"), accept=JSON_TYPES).body) == {"total": 3}


def test_only_json_or_csv_content_is_accepted(source_server) -> None:
    source_server.set("/page.html", Route(body=b"<html></html>", content_type="text/html"))
    with pytest.raises(SourceError, match="text/html"):
        fetch(source_server.url("/page.html"), accept=JSON_TYPES)
    source_server.set("/data.csv", Route(body=b"a\n1\n", content_type="text/csv; charset=utf-8"))
    fetched = fetch(source_server.url("/data.csv"), accept=CSV_TYPES)
    assert (fetched.content_type, fetched.charset) == ("text/csv", "utf-8")
    with pytest.raises(SourceError, match="text/csv"):
        fetch(source_server.url("/data.csv"), accept=JSON_TYPES)


@pytest.fixture
def https_source(tmp_path, source_server) -> Iterator[tuple[int, Path]]:
    """The local source behind TLS, with a certificate for sources.test signed by a throw-away authority."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp_path)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    )
    (tmp_path / "ext.cnf").write_text("subjectAltName=DNS:sources.test\n")
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=sources.test", "-keyout", "site.key", "-out", "site.csr"
    )
    openssl(
        "x509",
        "-req",
        "-in",
        "site.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "site.pem",
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "site.pem", tmp_path / "site.key")
    server = ThreadingHTTPServer(("127.0.0.1", 0), source_server.httpd.RequestHandlerClass)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], tmp_path / "ca.pem"
    server.shutdown()
    server.server_close()


def test_https_sources_are_verified_against_the_host_name(https_source, source_server, settings, monkeypatch) -> None:
    port, authority = https_source
    source_server.set("/count.json", Route(body=b'{"total": 11}'))
    real_getaddrinfo = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host in ("sources.test", "other.test"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    # An authority the system does not know: refused, and not worth a retry.
    with pytest.raises(SourceError, match="secure connection") as raised:
        fetch(f"https://sources.test:{port}/count.json", accept=JSON_TYPES)
    assert not raised.value.transient
    settings.INDICATOR_SOURCES_CA_FILE = str(authority)
    assert json.loads(fetch(f"https://sources.test:{port}/count.json", accept=JSON_TYPES).body) == {"total": 11}
    # The certificate names sources.test, not the name asked for.
    with pytest.raises(SourceError, match="secure connection"):
        fetch(f"https://other.test:{port}/count.json", accept=JSON_TYPES)
