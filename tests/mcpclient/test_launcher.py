"""A stdio server dies with the runtime that started it, even one that ignores its closed stdin."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agent.mcpclient.connection import launch_argv

_PARENT = """
import os, subprocess, sys, time
from agent.mcpclient.connection import launch_argv
program, args = (launch_argv(sys.argv[2], sys.argv[3:]) if sys.argv[1] == "launcher"
                 else (sys.argv[2], sys.argv[3:]))
child = subprocess.Popen([program, *args], stdin=subprocess.DEVNULL)
print(child.pid, flush=True)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


def _orphan_after_kill(mode: str) -> int:
    """Start `sleep 300` under a parent (through the launcher or not), kill -9 the parent, and
    return the sleep's pid."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, mode, "sleep", "300"], stdout=subprocess.PIPE, text=True, env=env
    )
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    deadline = time.monotonic() + 30
    while not Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep"):  # exec'd past the launcher
        assert time.monotonic() < deadline
        time.sleep(0.02)
    parent.kill()
    parent.wait()
    return pid


def test_the_launcher_ties_the_server_to_the_runtime() -> None:
    orphan = _orphan_after_kill("direct")
    try:
        time.sleep(0.5)
        assert _alive(orphan)  # the control: started directly, it outlives a killed runtime
    finally:
        os.kill(orphan, signal.SIGKILL)
    tied = _orphan_after_kill("launcher")
    deadline = time.monotonic() + 30
    while _alive(tied):
        assert time.monotonic() < deadline, "the server outlived the runtime"
        time.sleep(0.05)


def test_the_launcher_runs_the_program_with_its_arguments() -> None:
    program, args = launch_argv("echo", ["a b", "$HOME"])
    out = subprocess.run([program, *args], capture_output=True, text=True, check=True)
    assert out.stdout == "a b $HOME\n"
