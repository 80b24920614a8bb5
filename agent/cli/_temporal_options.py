"""The Temporal flags, defined once: the connection flags `subagent worker` and `subagent dispatch
--executor temporal` share, and the dispatch's attempt policy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from agent.orchestrator.temporal import DEFAULT_TASK_QUEUE

if TYPE_CHECKING:
    from agent.orchestrator.temporal.connection import TemporalSettings
    from agent.orchestrator.temporal.models import AttemptPolicy

ADDRESS = typer.Option(
    "localhost:7233", "--temporal-address", envvar="TEMPORAL_ADDRESS", help="Temporal frontend HOST:PORT."
)
NAMESPACE = typer.Option("default", "--namespace", envvar="TEMPORAL_NAMESPACE", help="Temporal namespace.")
TASK_QUEUE = typer.Option(
    DEFAULT_TASK_QUEUE, "--task-queue", envvar="SUBAGENT_TASK_QUEUE", help="Task queue the workers poll."
)
API_KEY = typer.Option(
    None,
    "--api-key",
    envvar="TEMPORAL_API_KEY",
    show_default=False,
    help="Temporal Cloud API key (prefer the TEMPORAL_API_KEY variable).",
)
TLS = typer.Option(False, "--tls", help="Use TLS with the system's root certificates.")
TLS_CA = typer.Option(None, "--tls-ca", help="PEM CA certificate of the server (self-hosted TLS).")
TLS_CERT = typer.Option(None, "--tls-cert", envvar="TEMPORAL_TLS_CERT", help="PEM client certificate (mTLS).")
TLS_KEY = typer.Option(None, "--tls-key", envvar="TEMPORAL_TLS_KEY", help="PEM client key (mTLS).")
TLS_SERVER_NAME = typer.Option(None, "--tls-server-name", help="Name the server certificate must carry.")
HEARTBEAT_TIMEOUT = typer.Option(
    60.0, "--heartbeat-timeout", help="Seconds before a silent worker is presumed dead and retried."
)
MAX_ATTEMPTS = typer.Option(3, "--max-attempts", min=1, help="Attempts per subtask, the first included.")


def settings_from_flags(
    address: str,
    namespace: str,
    task_queue: str,
    api_key: str | None,
    tls: bool,
    tls_ca: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_server_name: str | None,
) -> TemporalSettings:
    """Build the one settings model from the shared flags."""
    from agent.orchestrator.temporal.connection import TemporalSettings

    return TemporalSettings(
        address=address,
        namespace=namespace,
        task_queue=task_queue,
        api_key=api_key or None,
        tls=tls,
        tls_ca=tls_ca,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_server_name=tls_server_name,
    )


def attempt_policy(heartbeat_timeout: float, max_attempts: int) -> AttemptPolicy:
    """The dispatch's attempt policy from its flags."""
    from agent.orchestrator.temporal.models import AttemptPolicy

    return AttemptPolicy(heartbeat_timeout_s=heartbeat_timeout, max_attempts=max_attempts)
