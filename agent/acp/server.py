"""`subagent acp`: the runtime as an Agent Client Protocol agent (protocol version 1) over stdio.

`AcpServer` is a plain class, not a subclass of `acp.Agent`, so a method it does not implement
answers "method not found" instead of a silent success. Each ACP session is a runtime session
(same id, so `session/list` and `session/load` agree); each `session/prompt` is one run of the
runtime (`agent.api.run_events`) whose events `agent.acp.updates` turns into
`session/update` notifications. Every update of a turn is written before the prompt's answer:
the handler awaits each notification before it returns.

Example:
    claimed = claim_stdio()
    asyncio.run(serve_acp(AcpServer(), claimed))
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import __version__
from agent.acp.client_requests import AcpApprover, AcpEditorBuffers
from agent.acp.commands import available_commands, command_of_prompt
from agent.acp.mcp_servers import editor_servers
from agent.acp.prompt_text import prompt_text
from agent.acp.session import AcpSession, Outbox, mode_state, set_title
from agent.acp.stdio import ClaimedStdio, open_streams
from agent.acp.updates import UpdateMapper, replay_updates
from agent.errors import SubagentError
from agent.events import Event
from agent.loop.cancel_grace import run_with_grace
from agent.permissions.models import AskRequest

if TYPE_CHECKING:
    from agent.prompt.custom_commands import CommandRun

log = logging.getLogger(__name__)

CANCEL_GRACE_S = 10.0
"""How long a cancelled run may take to wind down (answer dangling tool calls) before it is cut."""


class AcpServer:
    """The ACP agent. See the module docstring; `run_options` go to every `run_agent` call."""

    def __init__(
        self, *, default_agent: str | None = None, model_client: Any = None, trust: bool = False
    ) -> None:
        self.default_agent = default_agent
        self.trust = trust
        """`--trust`: every session's workspace config and personas apply as written."""
        self.model_client = model_client
        """A fixed model client (the scripted model under `--script`); None: the real API."""
        self._conn: Any = None
        self._fs = (False, False)
        self._sessions: dict[str, AcpSession] = {}
        self._offers: set[asyncio.Task[None]] = set()
        """The `available_commands_update`s waiting to follow the answer that opened a session."""

    def on_connect(self, conn: Any) -> None:
        """The SDK hands over the client connection."""
        self._conn = conn

    # --- lifecycle ------------------------------------------------------------------------

    async def initialize(self, protocol_version: int, client_capabilities: Any = None,
                         client_info: Any = None, **_: Any) -> Any:  # fmt: skip
        """Protocol version 1 and what this agent really supports."""
        from acp import PROTOCOL_VERSION
        from acp.schema import (
            AgentCapabilities,
            Implementation,
            InitializeResponse,
            McpCapabilities,
            PromptCapabilities,
            SessionCapabilities,
            SessionCloseCapabilities,
            SessionListCapabilities,
            SessionResumeCapabilities,
        )

        fs = getattr(client_capabilities, "fs", None)
        self._fs = (bool(getattr(fs, "read_text_file", False)), bool(getattr(fs, "write_text_file", False)))
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(image=False, audio=False, embedded_context=True),
                mcp_capabilities=McpCapabilities(http=True, sse=True),
                session_capabilities=SessionCapabilities(
                    list=SessionListCapabilities(),
                    resume=SessionResumeCapabilities(),
                    close=SessionCloseCapabilities(),
                ),
            ),
            agent_info=Implementation(name="subagent", title="subagent", version=__version__),
            auth_methods=[],
        )

    async def new_session(self, cwd: str, mcp_servers: Any = None, **_: Any) -> Any:
        """A new session in `cwd`; the editor's MCP servers start with its first turn and run until
        the session closes."""
        from acp.schema import NewSessionResponse

        workspace = _absolute(cwd)
        modes = await asyncio.to_thread(mode_state, workspace, self.default_agent, None, self.trust)
        agent_name = modes.current_mode_id
        record = await _with_store(lambda store: store.create(agent=agent_name, workspace=workspace))
        session = await self._open(record.id, workspace, modes.current_mode_id)
        session.untitled, session.mcp_servers = True, editor_servers(mcp_servers)
        self._offer_commands(session)
        return NewSessionResponse(session_id=record.id, modes=modes)

    async def load_session(self, cwd: str, session_id: str, mcp_servers: Any = None, **_: Any) -> Any:
        """Replay the stored conversation as updates, then answer."""
        from acp.schema import LoadSessionResponse

        session, modes, messages = await self._reopen(cwd, session_id, with_messages=True)
        session.mcp_servers = editor_servers(mcp_servers)
        for update in replay_updates(messages, session.cwd):
            await self._conn.session_update(session_id=session.id, update=update)
        self._offer_commands(session)
        return LoadSessionResponse(modes=modes)

    async def resume_session(self, cwd: str, session_id: str, mcp_servers: Any = None, **_: Any) -> Any:
        """Continue a stored session without replaying it."""
        from acp.schema import ResumeSessionResponse

        session, modes, _unused = await self._reopen(cwd, session_id, with_messages=False)
        session.mcp_servers = editor_servers(mcp_servers)
        self._offer_commands(session)
        return ResumeSessionResponse(modes=modes)

    async def close_session(self, session_id: str, **_: Any) -> Any:
        """`session/close`: cancel its turn, stop its MCP servers and forget it."""
        from acp.schema import CloseSessionResponse

        session = self._session(session_id)
        await self.cancel(session_id)
        await self._forget(session)
        return CloseSessionResponse()

    async def close_all(self) -> None:
        """Stop every session's MCP servers (the connection ended)."""
        for session in list(self._sessions.values()):
            await self._forget(session)

    async def _forget(self, session: AcpSession) -> None:
        if self._sessions.get(session.id) is session:
            del self._sessions[session.id]
        await session.mcp.close()

    async def list_sessions(self, cwd: str | None = None, cursor: str | None = None, **_: Any) -> Any:
        """Top-level sessions, newest first (in `cwd` when given)."""
        from acp.schema import ListSessionsResponse, SessionInfo

        records = await _with_store(lambda store: store.list(_absolute(cwd) if cwd else None, 200))
        return ListSessionsResponse(sessions=[
            SessionInfo(session_id=r.id, cwd=r.workspace, title=r.title or None,
                        updated_at=r.updated.isoformat())
            for r in records if r.parent_id is None
        ])  # fmt: skip

    async def set_session_mode(self, session_id: str, mode_id: str, **_: Any) -> Any:
        """Switch the primary agent that runs the next prompts."""
        from acp import RequestError
        from acp.schema import SetSessionModeResponse

        session = self._session(session_id)
        modes = await asyncio.to_thread(mode_state, session.cwd, self.default_agent, None, self.trust)
        known = [m.id for m in modes.available_modes]
        if mode_id not in known:
            raise RequestError.invalid_params({"modeId": mode_id, "reason": f"unknown mode; modes: {known}"})
        session.mode = mode_id
        return SetSessionModeResponse()

    # --- turns ----------------------------------------------------------------------------

    async def prompt(self, session_id: str, prompt: list[Any], **_: Any) -> Any:
        """Run the session's agent on the prompt; answer after every update of the turn."""
        from acp import RequestError
        from acp.schema import PromptResponse

        session = self._session(session_id)
        if session.cancel is not None:
            busy = f"session {session_id} is already running a prompt; cancel it first"
            raise RequestError.invalid_request({"reason": busy})
        session.cancel = asyncio.Event()
        session.mapper = UpdateMapper(cwd=session.cwd, notices_shown=session.notices_shown)
        session.outbox = outbox = Outbox(self._conn, session)
        session.approver.start_turn()
        text = prompt_text(prompt)
        if session.untitled:
            session.untitled = False
            await asyncio.to_thread(set_title, session.id, text)
        try:
            command = await asyncio.to_thread(command_of_prompt, text, session.cwd)
            await self._run_turn(session, text, command)
            cancelled = session.cancel.is_set()
            failure = session.mapper.failure_text()
            if failure and not cancelled:
                outbox.put(_message(failure))
            if (changed := await self._commands_changed(session)) is not None:
                outbox.put(changed)  # a command file added, changed or removed since the last list
            return PromptResponse(stop_reason=session.mapper.stop_reason(cancelled))
        except SubagentError as exc:
            if session.cancel.is_set():
                return PromptResponse(stop_reason="cancelled")
            raise RequestError.internal_error({"details": str(exc), "error": type(exc).__name__}) from exc
        finally:
            await outbox.close()  # every update of the turn is written before the answer
            session.cancel = session.outbox = None

    async def _run_turn(self, session: AcpSession, text: str, command: CommandRun | None) -> None:
        """Forward every event's updates, in order; a cancel gets a grace period, then a cut."""
        assert session.cancel is not None and session.mapper is not None
        events = self._events(session, text, command)
        forward = self._forward(session, events)
        try:
            await run_with_grace(
                forward, session.cancel, grace_s=CANCEL_GRACE_S, what=f"session {session.id}"
            )
        except Exception:
            if not session.cancel.is_set():
                raise  # after a cancel, how the run ended is the stop reason's business, not an error

    async def _forward(self, session: AcpSession, events: AsyncIterator[Event]) -> None:
        assert session.mapper is not None and session.outbox is not None
        async for event in events:
            for update in session.mapper.updates(event):
                session.outbox.put(update)

    def _events(self, session: AcpSession, text: str, command: CommandRun | None) -> AsyncIterator[Event]:
        """The run of one prompt; a custom command's sets its prompt, and its model, agent and
        allowed tools for this prompt only (the session's mode stays the editor's)."""
        from agent.api import run_events
        from agent.runtime.options import RunOptions

        assert session.cancel is not None
        prompt, agent, model, grant = text, session.mode, None, None
        if command is not None:
            prompt, agent, model, grant = command.prompt, command.agent or agent, command.model, command.grant
        options = RunOptions(
            prompt=prompt, agent=agent, model=model, grant=grant, cwd=session.cwd, resume=session.id,
            approver=session.approver, always=session.always, cancel=session.cancel,
            model_client=self.model_client, editor=session.editor, trust=self.trust,
            mcp_servers=session.mcp_servers, mcp_kept=session.mcp,
        )  # fmt: skip
        return run_events(options)

    async def cancel(self, session_id: str, **_: Any) -> None:
        """`session/cancel`: stop the turn's tools and subagents; pending asks answer cancelled."""
        session = self._sessions.get(session_id)
        if session is None or session.cancel is None:
            return
        session.cancel.set()
        session.approver.cancel_pending()

    # --- custom commands ------------------------------------------------------------------

    def _offer_commands(self, session: AcpSession) -> None:
        """Tell the editor the workspace's custom commands right after the answer that opened
        `session` (the editor knows the session from that answer on). The SDK queues a handler's
        answer in the step the handler returns in, before this task's first step."""
        task = asyncio.ensure_future(self._send_commands(session))
        self._offers.add(task)
        task.add_done_callback(self._offers.discard)

    async def _send_commands(self, session: AcpSession) -> None:
        try:
            if (update := await self._commands_changed(session)) is not None:
                await self._conn.session_update(session_id=session.id, update=update)
        except OSError as exc:  # the client went away (ConnectionError), or a folder unreadable
            log.warning("session %s: custom commands not offered to the editor: %s", session.id, exc)

    async def _commands_changed(self, session: AcpSession) -> Any | None:
        """The `available_commands_update` when the workspace's commands differ from what the
        editor was last told (nothing, for a new session), else None."""
        update = await asyncio.to_thread(available_commands, session.cwd)
        if update.available_commands == session.commands_offered:
            return None
        session.commands_offered = update.available_commands
        return update

    # --- helpers --------------------------------------------------------------------------

    def _session(self, session_id: str) -> AcpSession:
        from acp import RequestError

        try:
            return self._sessions[session_id]
        except KeyError:
            raise RequestError.resource_not_found(session_id) from None

    async def _open(self, session_id: str, cwd: Path, mode: str) -> AcpSession:
        if (earlier := self._sessions.get(session_id)) is not None:  # loaded again: a fresh start
            await self._forget(earlier)
        session = AcpSession(id=session_id, cwd=cwd, mode=mode)
        session.approver = AcpApprover(self._conn, session_id, functools.partial(self._describe, session))
        if all(self._fs):
            session.editor = AcpEditorBuffers(self._conn, session_id)
        self._sessions[session_id] = session
        return session

    async def _reopen(
        self, cwd: str, session_id: str, *, with_messages: bool
    ) -> tuple[AcpSession, Any, list[Any]]:
        from acp import RequestError

        from agent.errors import SessionError, UnknownSessionError

        def read(store: Any) -> tuple[Any, list[Any]]:
            record = store.get(session_id)
            return record, store.messages(record.id) if with_messages else []

        try:
            record, messages = await _with_store(read)
        except (SessionError, UnknownSessionError) as exc:
            raise RequestError.resource_not_found(session_id) from exc
        workspace = _absolute(cwd) if cwd else Path(record.workspace)
        modes = await asyncio.to_thread(mode_state, workspace, self.default_agent, record.agent, self.trust)
        return await self._open(record.id, workspace, modes.current_mode_id), modes, messages

    async def _describe(self, session: AcpSession, request: AskRequest) -> Any:
        """The tool call a permission request is about, once its `tool_call` update is written.

        The runtime asks only after this front end took the call's events (its `permission_asked`
        came after its `tool_call_started`, agent.runtime.question_order), so the update is in the
        outbox by now: waiting for the outbox to be written puts the request after it on the wire.
        """
        from acp.schema import ToolCallUpdate

        mapper = session.mapper or UpdateMapper(cwd=session.cwd)
        call_id = mapper.call_id(request.session_id, request.tool_use_id)
        if session.outbox is not None:
            await session.outbox.flushed()
        who = f" ({request.agent})" if request.agent else ""
        return ToolCallUpdate(tool_call_id=call_id, title=request.title + who, status="pending",
                              raw_input={"permission": request.permission, "patterns": request.patterns,
                                         "detail": request.detail})  # fmt: skip


def _message(text: str) -> Any:
    from acp import update_agent_message_text

    return update_agent_message_text(text)


def _absolute(cwd: str) -> Path:
    from acp import RequestError

    path = Path(cwd)
    if not path.is_absolute():
        raise RequestError.invalid_params({"cwd": cwd, "reason": "cwd must be an absolute path"})
    return path.resolve()


async def serve_acp(server: AcpServer, claimed: ClaimedStdio) -> None:
    """Serve `server` over the claimed stdio until the client closes the stream."""
    from acp import run_agent

    reader, writer = await open_streams(claimed)
    try:
        # The SDK's `Agent` protocol spells out every method's keywords; AcpServer takes the ones it
        # serves and ignores the rest (`**_`), which mypy does not count as the same signature.
        await run_agent(server, input_stream=writer, output_stream=reader, use_unstable_protocol=True)  # type: ignore[arg-type]
    finally:
        await server.close_all()  # the sessions' MCP servers stop with the connection


async def _with_store(work: Any) -> Any:
    """`work(store)` off the loop (opening connects and migrates); a damaged, locked or full store
    is an ACP error whose message names the file and what to do (a StoreError, kept as its cause)."""
    from acp import RequestError

    from agent.errors import StoreError
    from agent.runtime.parts import opened_store

    def run() -> Any:
        with opened_store() as store:
            return work(store)

    try:
        return await asyncio.to_thread(run)
    except StoreError as exc:
        raise RequestError.internal_error({"message": str(exc)}) from exc
