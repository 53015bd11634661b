"""Reading a source over HTTP(S) when its URL was typed by a person.

The URL could point anywhere, including at the machines behind the tracker (a database, a cloud
metadata service at 169.254.169.254). So: only http and https; the host name is resolved here and
every address it gives must be public, or inside a network the settings exempt; the connection then
goes to the address that was checked, so a second resolution cannot swap it for another (DNS
rebinding); redirects are followed by hand and each is checked again; the time to connect and to
read, and the size of the body before and after decompression, are bounded; and only JSON or CSV is
accepted.
"""

import http.client
import ipaddress
import socket
import ssl
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

MAX_REDIRECTS = 3
USER_AGENT = "opengov-indicateurs/1.0 (suivi des engagements pour un gouvernement ouvert)"
_CHUNK = 64 * 1024

JSON_TYPES = ("application/json", "text/json")
CSV_TYPES = ("text/csv", "application/csv", "text/comma-separated-values")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class SourceError(Exception):
    """A source that could not be read. Transient errors (time-outs, refused connections, 5xx) are worth
    another try later; permanent ones (4xx, refused address, unreadable content) are not."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


@dataclass(frozen=True)
class Fetched:
    url: str
    content_type: str
    charset: str | None
    body: bytes


# Every range that is not the public Internet, named for the message. is_global alone is not enough:
# its table has changed between Python versions, and the IPv6 forms that carry an IPv4 address
# (mapped, NAT64, 6to4) must be judged by the address they carry.
_REFUSED_NETWORKS = [
    (ipaddress.ip_network(cidr), label)
    for cidr, label in [
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),
        ("192.0.2.0/24", "reserved"),
        ("192.88.99.0/24", "reserved"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved"),
        ("198.51.100.0/24", "reserved"),
        ("203.0.113.0/24", "reserved"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "reserved"),  # IPv4-compatible, deprecated
        ("64:ff9b:1::/48", "private"),  # NAT64 for local use
        ("100::/64", "reserved"),
        ("2001::/23", "reserved"),  # IETF protocol assignments, Teredo included
        ("2001:db8::/32", "reserved"),
        ("3fff::/20", "reserved"),
        ("fc00::/7", "private"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "private"),
        ("ff00::/8", "multicast"),
    ]
]


def _label(kind: str) -> str:
    return {
        "unspecified": _("an unspecified address"),
        "private": _("a private address"),
        "shared": _("a shared (carrier-grade NAT) address"),
        "loopback": _("a loopback address"),
        "link-local": _("a link-local address"),
        "multicast": _("a multicast address"),
        "reserved": _("a reserved address"),
        "not-global": _("an address that is not public"),
    }[kind]


def _carried_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: IPv4-mapped, well-known NAT64 prefix, or 6to4."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(cidr.strip(), strict=False) for cidr in settings.INDICATOR_SOURCES_ALLOWED_NETWORKS]


def address_refusal(address: IPAddress) -> str | None:
    """Why the tracker may not connect to this address, or None when it may."""
    allowed = _allowed_networks()
    carried = _carried_ipv4(address) if address.version == 6 else None
    if any(address in network for network in allowed) or (carried and any(carried in n for n in allowed)):
        return None
    if carried is not None:
        return address_refusal(carried)
    for network, kind in _REFUSED_NETWORKS:
        if address.version == network.version and address in network:
            return _label(kind)
    if not address.is_global:
        return _label("not-global")
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host name gives; a literal address is itself."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        transient = error.errno == socket.EAI_AGAIN
        raise SourceError(
            _("The host name %(host)s could not be resolved (%(error)s).") % {"host": host, "error": error.strerror},
            transient=transient,
        ) from error
    addresses: list[IPAddress] = []
    for *_rest, sockaddr in infos:
        # A scope id (fe80::1%eth0) is not part of the address to judge.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_url(url: str) -> Target:
    """Check the URL's form: http or https, a host, no credentials."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise SourceError(_("The URL %(url)s is not valid (%(error)s).") % {"url": url, "error": error}) from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise SourceError(_("Only http and https URLs can be read, not “%(scheme)s”.") % {"scheme": parts.scheme})
    if not parts.hostname:
        raise SourceError(_("The URL %(url)s names no host.") % {"url": url})
    if parts.username is not None or parts.password is not None:
        raise SourceError(_("A source URL may not contain a user name or password."))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme, parts.hostname, port or (443 if scheme == "https" else 80), path)


def checked_addresses(target: Target) -> list[IPAddress]:
    """The host's addresses, all of them allowed, or an error naming the first that is not."""
    addresses = resolve(target.host, target.port)
    if not addresses:
        raise SourceError(_("The host name %(host)s has no address.") % {"host": target.host})
    for address in addresses:
        refusal = address_refusal(address)
        if refusal and target.host.strip("[]") == str(address):
            raise SourceError(
                _("%(address)s is %(why)s: the tracker only reads sources on the public Internet.")
                % {"address": address, "why": refusal}
            )
        if refusal:
            raise SourceError(
                _("%(host)s leads to %(address)s, %(why)s: the tracker only reads sources on the public Internet.")
                % {"host": target.host, "address": address, "why": refusal}
            )
    return addresses


def check_url(url: str) -> None:
    """Everything that can be checked before reading: the form of the URL and the addresses it leads to."""
    checked_addresses(parse_url(url))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address that was checked, while naming the host in the request."""

    def __init__(self, target: Target, address: IPAddress, connect_timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=connect_timeout)
        self._address = address

    def connect(self) -> None:
        # A socket connected to the address itself: nothing here resolves a name again.
        family = socket.AF_INET if self._address.version == 4 else socket.AF_INET6
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.connect((str(self._address), self.port))
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def connect(self) -> None:
        super().connect()
        # The certificate is checked against the host name, not the address connected to.
        context = ssl.create_default_context(cafile=settings.INDICATOR_SOURCES_CA_FILE or None)
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


def _media_type(header: str | None) -> tuple[str, str | None]:
    if not header:
        return "", None
    media, *params = (part.strip() for part in header.split(";"))
    charset = None
    for param in params:
        name, _sep, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    return media.lower(), charset


def _accepted(media: str, accept: tuple[str, ...]) -> bool:
    return media in accept or (accept == JSON_TYPES and media.startswith("application/") and media.endswith("+json"))


class _Body:
    """Reads a response's body within the deadline and the size cap, decompressing as it goes."""

    def __init__(self, response: http.client.HTTPResponse, sock: socket.socket | None, deadline: float) -> None:
        self.response = response
        self.sock = sock
        self.deadline = deadline
        self.limit = settings.INDICATOR_SOURCE_MAX_BYTES
        encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
        if encoding in ("identity", ""):
            self.decompressor = None
        elif encoding in ("gzip", "x-gzip"):
            self.decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.decompressor = zlib.decompressobj()
        else:
            raise SourceError(
                _("The source answered in an encoding the tracker cannot read (%(encoding)s).") % {"encoding": encoding}
            )

    def _too_big(self) -> SourceError:
        return SourceError(
            _("The source's answer is larger than %(limit)s bytes, the most the tracker reads.") % {"limit": self.limit}
        )

    def read(self) -> bytes:
        declared = self.response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.limit:
            raise self._too_big()
        raw_read = 0
        out = bytearray()
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise _timeout()
            if self.sock is not None:
                self.sock.settimeout(remaining)
            try:
                chunk = self.response.read1(_CHUNK)
            except TimeoutError as error:
                raise _timeout() from error
            except (http.client.HTTPException, OSError) as error:
                raise SourceError(
                    _("The connection broke while reading the source (%(error)s).") % {"error": error}, transient=True
                ) from error
            if not chunk:
                break
            raw_read += len(chunk)
            if raw_read > self.limit:
                raise self._too_big()
            if self.decompressor is None:
                out += chunk
            else:
                self._inflate(chunk, out)
            if len(out) > self.limit:
                raise self._too_big()
        if self.decompressor is not None:
            try:
                out += self.decompressor.flush()
            except zlib.error as error:
                raise _corrupt(error) from error
            if len(out) > self.limit:
                raise self._too_big()
        return bytes(out)

    def _inflate(self, chunk: bytes, out: bytearray) -> None:
        # max_length stops a small compressed body (a "bomb") from expanding past the cap in memory.
        data = chunk
        while data:
            try:
                out += self.decompressor.decompress(data, self.limit - len(out) + 1)
            except zlib.error as error:
                raise _corrupt(error) from error
            if len(out) > self.limit:
                raise self._too_big()
            data = self.decompressor.unconsumed_tail


def _timeout() -> SourceError:
    return SourceError(
        _("The source did not answer within %(seconds)s seconds.")
        % {"seconds": f"{settings.INDICATOR_SOURCE_READ_TIMEOUT:g}"},
        transient=True,
    )


def _corrupt(error: Exception) -> SourceError:
    return SourceError(_("The source's compressed answer is corrupt (%(error)s).") % {"error": error})


def fetch(url: str, *, accept: tuple[str, ...]) -> Fetched:
    """GET the URL under the rules above and return its body, or raise SourceError saying what went wrong."""
    connect_timeout = settings.INDICATOR_SOURCE_CONNECT_TIMEOUT
    deadline = time.monotonic() + connect_timeout + settings.INDICATOR_SOURCE_READ_TIMEOUT
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        target = parse_url(current)
        addresses = checked_addresses(target)
        response, connection = _request(target, addresses, accept, connect_timeout, deadline)
        try:
            status = response.status
            if status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise SourceError(
                        _("The source redirects without saying where (HTTP %(status)s).") % {"status": status}
                    )
                current = urljoin(current, location)
                continue
            if status >= 500 or status == 429:
                raise SourceError(
                    _("The source answered with an error on its side (HTTP %(status)s %(reason)s).")
                    % {"status": status, "reason": response.reason},
                    transient=True,
                )
            if status >= 400:
                raise SourceError(
                    _("The source refused the request (HTTP %(status)s %(reason)s).")
                    % {"status": status, "reason": response.reason}
                )
            if status != 200:
                raise SourceError(_("The source answered HTTP %(status)s, not 200.") % {"status": status})
            media, charset = _media_type(response.getheader("Content-Type"))
            if not _accepted(media, accept):
                raise SourceError(
                    _("The source sent “%(received)s”; one of these types was expected: %(expected)s.")
                    % {"received": media or _("no content type"), "expected": ", ".join(accept)}
                )
            body = _Body(response, connection.sock, deadline).read()
            return Fetched(url=current, content_type=media, charset=charset, body=body)
        finally:
            connection.close()
    raise SourceError(_("The source redirects more than %(count)s times.") % {"count": MAX_REDIRECTS})


def _request(
    target: Target, addresses: list[IPAddress], accept: tuple[str, ...], connect_timeout: float, deadline: float
) -> tuple[http.client.HTTPResponse, _PinnedHTTPConnection]:
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    last_error: Exception | None = None
    for address in addresses:
        connection = connection_class(target, address, connect_timeout)
        try:
            connection.connect()
            connection.sock.settimeout(max(0.001, deadline - time.monotonic()))
            connection.request(
                "GET",
                target.path,
                headers={"Accept": ", ".join(accept), "Accept-Encoding": "gzip, deflate", "User-Agent": USER_AGENT},
            )
            return connection.getresponse(), connection
        except ssl.SSLError as error:
            connection.close()
            raise SourceError(
                _("The secure connection to %(host)s failed (%(error)s).") % {"host": target.host, "error": error}
            ) from error
        except TimeoutError as error:
            connection.close()
            if time.monotonic() >= deadline:
                raise _timeout() from error
            last_error = error
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            last_error = error
    raise SourceError(
        _("Could not connect to %(host)s (%(error)s).") % {"host": target.host, "error": last_error}, transient=True
    )
