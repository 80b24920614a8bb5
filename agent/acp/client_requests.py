"""What the runtime asks of an ACP client: permission answers, and the editor's file buffers.

`AcpApprover` implements `agent.permissions.models.Approver` with `session/request_permission`;
`AcpEditorBuffers` implements `agent.tool.EditorBuffers` with `fs/read_text_file` and
`fs/write_text_file`. Both talk to the client through the SDK's agent-side connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.permissions.models import AskAnswer, AskRequest

if TYPE_CHECKING:
    from acp.schema import RequestPermissionResponse

log = logging.getLogger(__name__)

_OPTIONS = (
    ("allow_once", "Allow once"),
    ("allow_always", "Allow always (this session)"),
    ("reject_once", "Reject once"),
    ("reject_always", "Reject always (this session)"),
)
CANCELLED_ANSWER = "denied: the turn was cancelled before an answer"
"""What the model is told when a cancel answers a pending ask."""


@dataclass(eq=False, repr=False)
class AcpApprover:
    """Asks the editor's user. An `always` answer (allow or reject) is kept by the session's
    `AlwaysMemory` (`AcpSession.always`), which every prompt's run gets, so the gate answers the
    same question itself for the rest of the ACP session. A cancel answers every pending ask as
    denied.
    """

    conn: Any
    """The SDK's `AgentSideConnection` (the client, seen from the agent)."""
    session_id: str
    """The ACP session id the requests are sent under."""
    describe: Callable[[AskRequest], Awaitable[Any]]
    """Builds the `ToolCallUpdate` the request shows (title, kind, locations of the call)."""
    _cancel: asyncio.Event = field(default_factory=asyncio.Event)

    def start_turn(self) -> None:
        """A new prompt: asks may be put again."""
        self._cancel = asyncio.Event()

    def cancel_pending(self) -> None:
        """Answer every pending ask as cancelled (a `session/cancel` arrived)."""
        self._cancel.set()

    async def ask(self, request: AskRequest) -> AskAnswer:
        """The client's answer (a cancelled turn's asks are denied without asking)."""
        if self._cancel.is_set():
            return AskAnswer(decision="deny", message=CANCELLED_ANSWER)
        response = await self._request(request)
        if response is None:
            return AskAnswer(decision="deny", message=CANCELLED_ANSWER)
        return self._answer(request, response)

    async def _request(self, request: AskRequest) -> RequestPermissionResponse | None:
        from acp.schema import PermissionOption

        options = [PermissionOption(option_id=kind, name=name, kind=kind) for kind, name in _OPTIONS]
        tool_call = await self.describe(request)
        asked = asyncio.ensure_future(self.conn.request_permission(
            session_id=self.session_id, tool_call=tool_call, options=options,
        ))  # fmt: skip
        cancelled = asyncio.ensure_future(self._cancel.wait())
        try:
            await asyncio.wait({asked, cancelled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
        if not asked.done():
            asked.cancel()
            return None
        response: RequestPermissionResponse = asked.result()
        return response

    def _answer(self, request: AskRequest, response: RequestPermissionResponse) -> AskAnswer:
        outcome = response.outcome
        if outcome.outcome != "selected":
            return AskAnswer(decision="deny", message=CANCELLED_ANSWER)
        option = getattr(outcome, "option_id", "")
        scope = "always" if option.endswith("_always") else "once"
        if option.startswith("allow"):
            return AskAnswer(decision="allow", scope=scope)
        message = f"{request.permission} denied by the user in the editor"
        return AskAnswer(decision="deny", scope=scope, message=message)


@dataclass(eq=False, repr=False)
class AcpEditorBuffers:
    """Reads and writes files through the editor, so unsaved buffers are seen and edits tracked.

    Built only when the client offers both `fs.readTextFile` and `fs.writeTextFile` (a write
    must go where the read came from). A read the editor cannot serve (no such file) is None,
    and the tool falls back to the disk.
    """

    conn: Any
    session_id: str

    async def read_text(self, path: Path) -> str | None:
        """The editor's text for `path`, or None when it does not have the file."""
        from acp import RequestError

        try:
            response = await self.conn.read_text_file(session_id=self.session_id, path=str(path))
        except RequestError as exc:
            log.debug("fs/read_text_file %s: %s", path, exc)
            return None
        return str(response.content)

    async def write_text(self, path: Path, text: str) -> None:
        """Write through the editor, which saves the file and tracks the change."""
        await self.conn.write_text_file(session_id=self.session_id, path=str(path), content=text)
