"""The HTTP client the Messages API is streamed over: httpx2, set up as the SDK sets it up.

Made in a background thread as soon as a model client exists (`start_client`), so importing
httpx2 (about 0.1 s) and loading the system's CA certificates (0.05 to 0.17 s) overlap with
assembling the run rather than delaying the first request. The TLS context is made once per
process and only when a connection can need it: an `http://` base URL without a proxy (a local
endpoint, the tests) never loads certificates, and a redirect from it to `https://` fails
verification rather than going unchecked. As in the SDK's default client: TCP keepalive (a
stream can be silent for minutes while the model thinks), 1000 connections and 100 kept alive,
redirects followed, proxies from the environment.
"""

from __future__ import annotations

import functools
import os
import socket
import ssl
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx2

_PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")


def _keepalive_options() -> list[tuple[int, int, int]]:
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name, value in (("TCP_KEEPINTVL", 60), ("TCP_KEEPCNT", 5), ("TCP_KEEPIDLE", 60)):
        if (option := getattr(socket, name, None)) is not None:
            options.append((socket.IPPROTO_TCP, option, value))
    return options


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one verifying TLS context (httpx2's: the system CAs, SSL_CERT_FILE/DIR)."""
    import httpx2

    return httpx2.create_ssl_context()


def _refusing_tls_context() -> ssl.SSLContext:
    """A context that verifies against no CA: any TLS connection it is used for fails closed."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _build(url: str, timeout_s: float) -> httpx2.AsyncClient:
    import httpx2

    proxied = any(os.environ.get(name) for name in _PROXY_VARIABLES)
    verify = tls_context() if proxied or url.startswith("https:") else _refusing_tls_context()
    limits = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
    options: dict[str, Any] = dict(timeout=httpx2.Timeout(timeout_s), follow_redirects=True)
    if proxied:  # httpx2 mounts the environment's proxies (and NO_PROXY) only on its own transport
        return httpx2.AsyncClient(verify=verify, limits=limits, trust_env=True, **options)
    transport = httpx2.AsyncHTTPTransport(verify=verify, limits=limits, socket_options=_keepalive_options())
    return httpx2.AsyncClient(transport=transport, **options)


def start_client(url: str, timeout_s: float) -> Future[httpx2.AsyncClient]:
    """Begin making the client for requests to `url` in a daemon thread; the future holds it."""
    future: Future[httpx2.AsyncClient] = Future()

    def build() -> None:
        try:
            future.set_result(_build(url, timeout_s))
        except BaseException as exc:  # handed to whoever awaits the client
            future.set_exception(exc)

    threading.Thread(target=build, name="model-http-client", daemon=True).start()
    return future
