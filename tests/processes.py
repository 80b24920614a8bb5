"""Finding processes on the host by a unique argument, to prove a command's children are gone."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path


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


def appears(arg: str, wait_s: float = 30.0) -> None:
    """Wait until a live process carries `arg` (so a later `gone` check is not vacuous)."""
    deadline = time.monotonic() + wait_s
    while not live_processes_with(arg):
        assert time.monotonic() < deadline, f"no process with {arg!r} within {wait_s} s"
        time.sleep(0.02)


def gone(arg: str, wait_s: float = 3.0) -> bool:
    """True once no live process carries `arg` (a killed process takes a moment to die)."""
    deadline = time.monotonic() + wait_s
    while live_processes_with(arg):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def kill_all_with(arg: str) -> None:
    """Kill what a failed test left behind (only processes carrying its own unique `arg`)."""
    for pid in live_processes_with(arg):
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
