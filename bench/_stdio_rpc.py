"""A JSON-RPC peer over a child's stdio for the start-up benchmark: one JSON object per line.

`RpcChild` starts a program, sends requests and notifications, and waits (with a deadline) for a
message that satisfies a predicate, answering any request the child sends meanwhile with a null
result (a client that grants nothing). `finish()` closes stdin, reaps the child with its resource
usage, and says when it was gone.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Message = dict[str, Any]


class RpcChild:
    """A child process spoken to in newline-delimited JSON-RPC over its stdin and stdout."""

    def __init__(self, argv: list[str], *, env: dict[str, str], cwd: Path, stderr: Path) -> None:
        self.started = time.time()
        with stderr.open("wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                         env=env, cwd=cwd)  # fmt: skip
        self._buffer = b""
        self._next_id = 0

    def request(self, method: str, params: dict[str, Any]) -> int:
        self._next_id += 1
        self._send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return self._next_id

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        self._send({"jsonrpc": "2.0", "method": method, **({"params": params} if params else {})})

    def _send(self, message: Message) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def _line(self, deadline: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.time()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no answer in time")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise EOFError("the child closed its stdout")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def wait_for(self, wanted: Callable[[Message], bool], timeout_s: float = 60.0) -> tuple[float, Message]:
        """The first message `wanted` accepts, and the seconds from the child's start to it."""
        deadline = time.time() + timeout_s
        while True:
            line = self._line(deadline)
            if not line.strip():
                continue
            message = json.loads(line)
            if wanted(message):
                return time.time() - self.started, message
            if "method" in message and "id" in message:  # a request to us: grant nothing
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})

    def answer_to(self, request_id: int, timeout_s: float = 60.0) -> tuple[float, Message]:
        return self.wait_for(lambda m: m.get("id") == request_id and "method" not in m, timeout_s)

    def finish(self, timeout_s: float = 30.0) -> tuple[float, int]:
        """Close stdin and reap the child: (seconds from closing to its end, peak RSS in KiB)."""
        assert self.proc.stdin is not None
        closed = time.time()
        self.proc.stdin.close()
        deadline = closed + timeout_s
        while True:
            pid, _, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                self.proc.returncode = 0
                return time.time() - closed, usage.ru_maxrss
            if time.time() > deadline:
                self.proc.kill()
                raise TimeoutError("the child did not exit after its stdin closed")
            time.sleep(0.001)
