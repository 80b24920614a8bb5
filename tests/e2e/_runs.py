"""Drive `subagent run` as a live subprocess: watch its events, kill it, read its session back."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from agent.sessions.store import SqliteSessionStore
from agent.transcript import blocks_to_wire
from tests.conftest import run_subagent, subagent_argv, subprocess_env

STARTED: list[LiveRun] = []
"""Every run started, so a failed test can stop what it left running (`stop_leftovers`)."""


def stop_leftovers() -> None:
    while STARTED:
        run = STARTED.pop()
        if run.proc.poll() is None:
            run.kill()


class LiveRun:
    """A `subagent run ... --output stream-json` subprocess whose stdout lines are read as they come."""

    def __init__(self, *args: str, url: str, cwd: Path, output: str = "stream-json") -> None:
        self.proc = subprocess.Popen(
            subagent_argv(
                "run",
                *args,
                "--agent",
                "backend-engineer",
                "--cwd",
                str(cwd),
                "--permission-mode",
                "bypass",
                "--output",
                output,
            ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(ANTHROPIC_API_KEY="test", ANTHROPIC_BASE_URL=url),
        )
        STARTED.append(self)
        self.lines: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(json.loads(line))
        self._queue.put(None)

    def wait_event(self, kind: str, timeout: float = 30) -> dict[str, Any]:
        """The next event of type `kind` (events before it are kept in `lines`)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {kind} event within {timeout}s; got {self.lines}") from None
            if event is None:
                raise AssertionError(f"the run ended before a {kind} event: {self.stderr()}")
            self.lines.append(event)
            if event["type"] == kind:
                return event

    def kill(self) -> None:
        """SIGKILL, as a crash or `kill -9` would."""
        self.proc.kill()
        self.proc.wait(timeout=10)

    def finish(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout=timeout)
        while (event := self._queue.get(timeout=5)) is not None:
            self.lines.append(event)
        return code

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read()


def resume(session_id: str | None, prompt: str, url: str, cwd: Path, *extra: str) -> dict[str, Any]:
    """`subagent run --resume ID PROMPT --output json` (`--continue` for None); the result object
    (the run must succeed). `extra` flags come last, so they override the defaults."""
    which = ["--continue"] if session_id is None else ["--resume", session_id]
    proc = run_subagent(
        "run",
        *which,
        prompt,
        "--agent",
        "backend-engineer",
        "--cwd",
        str(cwd),
        "--permission-mode",
        "bypass",
        "--output",
        "json",
        *extra,
        ANTHROPIC_API_KEY="test",
        ANTHROPIC_BASE_URL=url,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def shown(session_id: str) -> dict[str, Any]:
    """`subagent sessions show ID --json`: the session, its messages and checkpoints."""
    proc = run_subagent("sessions", "show", session_id, "--json")
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def stored(session_id: str) -> list[dict[str, Any]]:
    """The session's stored messages (role and content), read from the store in this process."""
    store = SqliteSessionStore()
    try:
        return [{"role": m.role, "content": blocks_to_wire(m.content)} for m in store.messages(session_id)]
    finally:
        store.close()
