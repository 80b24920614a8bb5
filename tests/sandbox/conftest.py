"""Fixtures for the sandbox tests: a workspace, a fake HOME outside /tmp, and process lookups."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def fake_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A HOME outside /tmp (the sandbox's /tmp is private, so a home there would hide by accident)."""
    home = Path(tempfile.mkdtemp(prefix="subagent-home-", dir="/var/tmp")).resolve()
    monkeypatch.setenv("HOME", str(home))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def unique_sleep() -> str:
    """A sleep argument no other process uses, so the test can look for that very process."""
    return f"{random.randint(1000, 9999)}.{random.randint(100000, 999999)}"


def live_processes_with(arg: str) -> list[int]:
    """Host pids (not zombies) whose argv contains `arg`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if arg.encode() in argv and state != "Z":
            found.append(int(entry.name))
    return found


def gone(arg: str, wait_s: float = 3.0) -> bool:
    """True once no live process carries `arg` (a killed process takes a moment to die)."""
    deadline = time.monotonic() + wait_s
    while live_processes_with(arg):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def kill_all_with(arg: str) -> None:
    for pid in live_processes_with(arg):
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
