"""Fetch one URL from the runtime process, safely: the host is resolved once, every address it
resolves to is checked, and the connection goes to the checked address (no second lookup, so
no DNS-rebinding gap); loopback, private, link-local and other non-public addresses are refused
unless `local_allowed(host)` says so; the body is capped in size and the whole fetch in time;
a redirect is not followed but returned (the caller decides, since another host needs asking
again).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from agent.errors import ToolFailure

Resolver = Callable[[str, int], list[str]]
MAX_BYTES = 5 * 1024 * 1024
TIMEOUT_S = 30.0
USER_AGENT = "subagent-webfetch/1"


@dataclass(frozen=True, eq=False, repr=False)
class Fetched:
    """One HTTP answer: its status, content type and body (cut at the size limit)."""

    url: str
    status: int
    content_type: str
    body: bytes
    truncated: bool
    redirect: str | None = None
    """Where a 3xx answer points (absolute), not followed."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (one lookup)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ToolFailure(f"cannot resolve {host}: {exc.strerror}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """Whether an address is a public one (not loopback, private, link-local, reserved, ...)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _Pinned(http.client.HTTPConnection):
    """HTTP to a fixed address, with the URL's host in the Host header."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    """HTTPS to a fixed address; the certificate is checked against the URL's host (SNI too)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def checked_address(host: str, port: int, resolver: Resolver, local_allowed: Callable[[str], bool]) -> str:
    """The address to connect to: the first of the host's addresses, once all were checked.

    Raises:
        ToolFailure: the host resolves to a non-public address and no rule allows it.
    """
    addresses = resolver(host, port)
    if not addresses:
        raise ToolFailure(f"{host} resolves to no address")
    local = [a for a in addresses if not is_public(a)]
    if local and not local_allowed(host):
        raise ToolFailure(
            f"{host} resolves to {local[0]}, a loopback or private address; web fetch refuses those "
            f"unless a rule allows the host (`permission: {{webfetch_local: {{{host}: allow}}}}`)"
        )
    return addresses[0]


def fetch(
    url: str,
    *,
    local_allowed: Callable[[str], bool],
    resolver: Resolver = system_resolver,
    max_bytes: int = MAX_BYTES,
    timeout_s: float = TIMEOUT_S,
) -> Fetched:
    """GET `url` (http or https) as the module docstring says. Blocking: run it in a thread.

    Raises:
        ToolFailure: a bad URL, a refused address, a connection or TLS failure, a timeout.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolFailure(f"{url!r} is not an http or https URL")
    host, tls = parts.hostname, parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    address = checked_address(host, port, resolver, local_allowed)
    started = time.monotonic()
    connection = (_PinnedTLS if tls else _Pinned)(host, port, address, timeout_s)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            "GET", path, headers={"User-Agent": USER_AGENT, "Accept": "text/html, text/*, */*"}
        )
        response = connection.getresponse()
        location = response.getheader("Location")
        if 300 <= response.status < 400 and location:
            return Fetched(url, response.status, "", b"", False, redirect=urljoin(url, location))
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            if time.monotonic() - started > timeout_s:
                raise ToolFailure(f"{url}: no complete answer within {timeout_s:g} s")
            chunk = response.read(min(65536, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        body = b"".join(chunks)
        kind = response.getheader("Content-Type") or ""
        return Fetched(url, response.status, kind, body[:max_bytes], len(body) > max_bytes)
    except (OSError, http.client.HTTPException) as exc:
        raise ToolFailure(f"{url}: {type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()
