"""How a dispatcher or a worker reaches Temporal: a local dev server, a cluster, or Temporal Cloud.

Every setting is documented in docs/distributed.md. Secrets (the API key) come from the caller,
usually the `TEMPORAL_API_KEY` environment variable read by the CLI, never from a file in the repo.
"""

import asyncio
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from agent.errors import ConfigError, RemoteDispatchError
from agent.orchestrator.temporal import DEFAULT_TASK_QUEUE
from agent.orchestrator.temporal._imports import require_temporal

if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.service import TLSConfig


class TemporalSettings(BaseModel):
    """Where Temporal is and how to authenticate; shared by `subagent worker` and the dispatcher."""

    address: str = "localhost:7233"
    """Frontend `host:port` (Temporal Cloud: `<namespace>.<account>.tmprl.cloud:7233`)."""
    namespace: str = "default"
    task_queue: str = DEFAULT_TASK_QUEUE
    """Workers poll it and the dispatcher starts workflows on it; one queue per pool of workers."""
    api_key: str | None = None
    """Temporal Cloud API key (sent as a bearer token; implies TLS)."""
    tls: bool = False
    """Use TLS with the system's roots (set automatically with an API key or client certificate)."""
    tls_ca: Path | None = None
    """PEM file of the CA that signed the server's certificate (self-hosted clusters)."""
    tls_cert: Path | None = None
    """PEM client certificate for mTLS (Temporal Cloud with certificates, or a cluster requiring it)."""
    tls_key: Path | None = None
    """PEM private key of `tls_cert`."""
    tls_server_name: str | None = None
    """Name to check the server certificate against when it differs from the address's host."""
    connect_timeout_s: float = 10.0
    """How long to try before reporting the address unreachable."""


async def connect(settings: TemporalSettings, *, subtask_ids: list[str] | None = None) -> "Client":
    """Connect with the pydantic data converter; fail fast and clearly when Temporal is not there.

    Raises:
        ConfigError: the temporal extra is missing, or the TLS files cannot be read.
        RemoteDispatchError: the address cannot be reached (names the address and the subtasks).
    """
    require_temporal()
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    ids = subtask_ids or []
    try:
        return await asyncio.wait_for(
            Client.connect(
                settings.address,
                namespace=settings.namespace,
                api_key=settings.api_key,
                tls=_tls(settings),
                data_converter=pydantic_data_converter,
                connect_timeout=timedelta(seconds=settings.connect_timeout_s),
            ),
            settings.connect_timeout_s + 2,
        )
    except (RuntimeError, TimeoutError, OSError) as exc:
        which = f"subtasks {', '.join(ids)} not started: " if ids else ""
        raise RemoteDispatchError(
            f"{which}cannot reach Temporal at {settings.address} (namespace {settings.namespace}): "
            f"{exc or type(exc).__name__}; start a server (`temporal server start-dev`) or check "
            "--temporal-address, TLS and the API key",
            address=settings.address,
            subtask_ids=ids,
        ) from exc


async def settle_core_threads(timeout_s: float = 2.0) -> None:
    """Let the SDK core's threads leave Python before the event loop, and maybe the interpreter, ends.

    Why: temporalio's Rust core resolves every awaited call (connect, each RPC) from a thread of its
    own, which queues the result on the loop and then writes to the loop's wake-up socket with the
    GIL released. If the main thread meanwhile returns from `asyncio.run` and the interpreter
    finalizes, that thread is stopped while it still holds a GIL state and CPython aborts
    ("Fatal Python error: PyGILState_Release", exit 134); issue 11. Await this last in any
    coroutine `asyncio.run` runs over a Temporal client: it yields once so calls just cancelled can
    complete, then waits (bounded) until no thread foreign to `threading` runs Python code.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    await asyncio.sleep(0.01)
    while _foreign_thread_in_python() and loop.time() < deadline:
        await asyncio.sleep(0.005)


def _foreign_thread_in_python() -> bool:
    """True while a thread Python did not start (a core thread) is inside Python code."""
    dummy = threading._DummyThread  # what `threading` makes up for a foreign thread that asks its name
    ours = {t.ident for t in threading.enumerate() if not isinstance(t, dummy)}
    return any(ident not in ours for ident in sys._current_frames())


def _tls(settings: TemporalSettings) -> "bool | TLSConfig":
    from temporalio.service import TLSConfig

    custom = settings.tls_ca or settings.tls_cert or settings.tls_server_name
    if not custom:
        return settings.tls or settings.api_key is not None
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise ConfigError("--tls-cert and --tls-key go together: mTLS needs the certificate and its key")
    return TLSConfig(
        server_root_ca_cert=_read(settings.tls_ca),
        client_cert=_read(settings.tls_cert),
        client_private_key=_read(settings.tls_key),
        domain=settings.tls_server_name,
    )


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.expanduser().read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read TLS file {path}: {exc.strerror}") from exc
