"""The control protocol of Claude Code's stream-json input: lines on stdin, requests both ways.

`Channel` writes every stdout line (one writer, so lines never interleave), sends our
`control_request`s (`can_use_tool`) and matches the SDK's `control_response`s to them.
`read_stdin` reads stdin in a thread, a line at a time, until it closes. `StdioApprover` is the
approver seam (agent.permissions.models.Approver) answered by the SDK's `can_use_tool` callback.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.permissions.models import AskAnswer, AskRequest


class ControlError(Exception):
    """The SDK answered one of our control requests with an error."""


class Channel:
    """stdout's one writer, and our control requests waiting for their answers."""

    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        self._write = write or _stdout_line
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    def send(self, message: dict[str, Any]) -> None:
        self._write(json.dumps(message, ensure_ascii=False))

    def respond(
        self, request_id: str, response: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        """Answer one of the SDK's control requests."""
        if error is not None:
            body: dict[str, Any] = {"subtype": "error", "request_id": request_id, "error": error}
        else:
            body = {"subtype": "success", "request_id": request_id, "response": response or {}}
        self.send({"type": "control_response", "response": body})

    async def request(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send a control request to the SDK and wait for its answer.

        Raises:
            ControlError: the SDK answered with an error, or stdin closed first.
        """
        request_id = f"subagent_{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self.send({"type": "control_request", "request_id": request_id, "request": request})
        try:
            return await future
        finally:
            self._pending.pop(request_id, None)

    def resolve(self, message: dict[str, Any]) -> None:
        """Hand a `control_response` from stdin to the request waiting for it."""
        response = message.get("response") or {}
        future = self._pending.get(str(response.get("request_id")))
        if future is None or future.done():
            return
        if response.get("subtype") == "error":
            future.set_exception(ControlError(str(response.get("error") or "the SDK refused the request")))
        else:
            future.set_result(response.get("response") or {})

    def close(self, why: str) -> None:
        """stdin closed: nothing can answer the requests still waiting."""
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ControlError(why))


def _stdout_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def read_stdin(queue: asyncio.Queue[dict[str, Any] | None]) -> None:
    """Start a thread that puts each JSON line of stdin on `queue`, then None at its end.

    A line that is not a JSON object goes on as `{"type": "invalid", "line": ...}`, so the
    reader can say what was wrong without stopping.
    """
    loop = asyncio.get_running_loop()

    def pump() -> None:
        for raw in sys.stdin.buffer:
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                message = None
            if not isinstance(message, dict):
                message = {"type": "invalid", "line": line[:200]}
            loop.call_soon_threadsafe(queue.put_nowait, message)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="stdin", daemon=True).start()


class StdioApprover:
    """Every ask goes to the SDK as `can_use_tool`; its answer is obeyed.

    `allow` runs the call, with its `updatedInput` and `updatedPermissions`
    (agent.headless.sdk_answer; `setMode` through `on_set_mode`); `deny` refuses it with the
    SDK's message; `interrupt: true` also ends the turn (`on_interrupt`).
    """

    def __init__(
        self,
        channel: Channel,
        on_interrupt: Callable[[], None],
        on_set_mode: Callable[[str], None],
        workspace: Path,
    ) -> None:
        self.channel = channel
        self.workspace = workspace
        """Where the SDK's rule updates' relative paths start."""
        self.on_interrupt = on_interrupt
        self.on_set_mode = on_set_mode

    async def ask(self, request: AskRequest) -> AskAnswer:
        payload = {
            "subtype": "can_use_tool",
            "tool_name": request.tool_name,
            "input": request.tool_input,
            "tool_use_id": request.tool_use_id,
            "permission_suggestions": [],
            "title": request.title,
            "description": request.detail,
            "decision_reason": f"{request.permission} on {', '.join(request.patterns)}",
        }
        if request.agent:
            payload["agent_id"] = request.agent
        try:
            answer = await self.channel.request(payload)
        except ControlError as exc:
            return AskAnswer(decision="deny", message=f"denied: the SDK's can_use_tool failed: {exc}")
        if answer.get("behavior") == "allow":
            from agent.headless.sdk_answer import answer_of

            return answer_of(answer, request, self.on_set_mode, self.workspace)
        if answer.get("interrupt"):
            self.on_interrupt()
        message = str(answer.get("message") or "denied by the SDK's can_use_tool callback")
        return AskAnswer(decision="deny", message=message)
