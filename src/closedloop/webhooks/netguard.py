"""Outgoing HTTP that cannot be pointed at the inside of the network (SSRF protection).

A webhook URL is chosen by a user, so without care it becomes a way to make the server call
its own admin ports, the cloud metadata service (169.254.169.254) or the office network. Here:

* the host is resolved once and every address it resolves to must be public: loopback,
  private, link-local, multicast, reserved, unspecified and shared (CGNAT) addresses are
  refused, for IPv4 and IPv6, including IPv4 addresses embedded in IPv6 (::ffff:127.0.0.1,
  6to4, NAT64);
* the connection is made to the address that was checked, not to a fresh lookup of the name,
  so a DNS answer that changes between check and connect (DNS rebinding) does not get through;
  TLS still verifies the certificate against the host name;
* redirects are followed by hand, a few at most, and each hop is checked the same way;
* a host that an admin allowed explicitly skips the address check (e.g. an internal CRM).

No Django here: callers pass the allowed hosts in.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 3
MAX_BODY = 64 * 1024  # of a response we keep, for the delivery log
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeDestination(Exception):
    """The URL may not be called: bad scheme, unresolvable, or an internal address."""


@dataclass(frozen=True)
class Destination:
    url: str
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    addresses: tuple[IPAddress, ...]  # all checked; connect to these and nothing else


@dataclass
class Reply:
    status: int
    body: bytes
    url: str  # the final URL, after redirects
    hops: list[str] = field(default_factory=list)  # every URL called, in order


def forbidden_reason(address: IPAddress) -> str | None:
    """Why `address` may not be called, or None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            reason = forbidden_reason(embedded)
            return f"{reason} (embedded in {address})" if reason else None
    # Most specific first: 127.0.0.1 is also "private" in Python's tables.
    for reason, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return f"{address} is a {reason} address"
    if not address.is_global:  # e.g. 100.64.0.0/10, shared by carrier-grade NAT
        return f"{address} is not a public address"
    return None


Resolver = Callable[[str, int], list[IPAddress]]


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (A and AAAA), in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(f"cannot resolve {host}: {exc}") from None
    seen: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # Strip an IPv6 zone ("fe80::1%eth0"); the address itself decides.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    return seen


def check_url(
    url: str, *, allowed_hosts: Collection[str] = (), resolver: Resolver | None = None
) -> Destination:
    """Resolve and check `url`; raise UnsafeDestination, or return where to connect."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:  # e.g. an unbalanced "[" or "]" ("Invalid IPv6 URL")
        raise UnsafeDestination(f"the URL cannot be read: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeDestination("only http and https URLs can receive webhooks")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeDestination("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeDestination("the URL's port is not a number from 0 to 65535") from None
    addresses = (resolver or resolve)(host, port)
    if not addresses:
        raise UnsafeDestination(f"{host} resolves to no address")
    if host not in {h.lower() for h in allowed_hosts}:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason:
                raise UnsafeDestination(
                    f"{host} resolves to {address}: {reason}; an admin can allow this host"
                    if str(address) != host
                    else f"{reason}; an admin can allow this host"
                )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(url, parts.scheme, host, port, target, tuple(addresses))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked addresses; the Host header still names the host."""

    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._addresses = destination.addresses
        self._seconds = timeout

    def connect(self) -> None:
        self.sock = _connect_any(self._addresses, self.port, self._seconds)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, destination: Destination, timeout: float, context: ssl.SSLContext):
        super().__init__(destination.host, destination.port, timeout=timeout, context=context)
        self._addresses = destination.addresses
        self._tls = context
        self._seconds = timeout

    def connect(self) -> None:
        sock = _connect_any(self._addresses, self.port, self._seconds)
        # SNI and certificate checks use the name, the TCP connection the checked address.
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def _connect_any(addresses: tuple[IPAddress, ...], port: int, timeout: float) -> socket.socket:
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout=timeout)
        except OSError as exc:
            error = exc
    raise error or OSError("no address to connect to")


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allowed_hosts: Collection[str] = (),
    timeout: float = 10.0,
    max_redirects: int = MAX_REDIRECTS,
    resolver: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Reply:
    """POST `body` to `url`, checking the destination of the request and of every redirect.

    Redirects keep the method and body: a webhook that arrives as a GET would be a webhook
    lost. Raises UnsafeDestination for a refused hop or too many redirects, OSError or
    http.client.HTTPException for network failures; any HTTP status is returned as a Reply.
    """
    context = ssl_context or ssl.create_default_context()
    hops: list[str] = []
    while True:
        destination = check_url(url, allowed_hosts=allowed_hosts, resolver=resolver)
        hops.append(url)
        status, location, content = _send(destination, body, headers, timeout, context)
        if status not in REDIRECTS or not location:
            return Reply(status=status, body=content, url=url, hops=hops)
        if len(hops) > max_redirects:
            raise UnsafeDestination(f"more than {max_redirects} redirects")
        url = urljoin(url, location)


def _send(
    destination: Destination,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    context: ssl.SSLContext,
) -> tuple[int, str | None, bytes]:
    if destination.scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPSConnection(
            destination, timeout, context
        )
    else:
        connection = _PinnedHTTPConnection(destination, timeout)
    try:
        connection.request("POST", destination.target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Location"), response.read(MAX_BODY)
    finally:
        connection.close()
