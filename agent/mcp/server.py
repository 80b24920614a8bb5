"""`subagent mcp`: the runtime as MCP tools over stdio, for orchestrator agents and programs.

Tools: `run_task` (run an agent on a task in a workspace), `reply` (continue a session with a new
prompt) and `list_agents`. Each run is one `agent.runtime.assembly.run_agent` stream: every step (model
turn, tool call, subagent) is a progress notification, so clients that time out quiet calls keep
waiting; the first names the session id, so a cancelled call can still be continued with `reply`.
`notifications/cancelled` sets the run's cancel signal and lets it wind down (dangling tool calls
answered, status stored) before the handler gives up. Asks go to the client by elicitation when
it offers that; otherwise they are denied, and the result says what was denied and how to allow it.

`mcp` pulls starlette and uvicorn, so only this module imports it, inside `build_server`. The
module does not use postponed annotations: the SDK reads the tools' annotations (the `Context`
parameter, the result model) from the live function objects.
"""

import asyncio
import functools
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field

from agent import DEFAULT_AGENT, __version__
from agent.errors import ConfigError, SessionError, SubagentError, UnknownSessionError
from agent.events import (
    Event,
    PermissionDenial,
    ResultEvent,
    RunBoundary,
    SessionStartedEvent,
    SubagentStartedEvent,
    ToolCallStartedEvent,
    TurnStartedEvent,
    Usage,
)
from agent.loop.cancel_grace import run_with_grace
from agent.permissions.always import AlwaysMemory
from agent.permissions.models import AskAnswer, AskRequest, PermissionMode
from agent.runtime.options import RunOptions

if TYPE_CHECKING:
    from mcp.types import CallToolResult

log = logging.getLogger(__name__)

CANCEL_GRACE_S = 10.0
"""How long a cancelled run may take to store its state before the handler stops waiting."""

NO_ELICITATION = (
    "denied: the MCP client cannot answer permission asks (it does not support elicitation); "
    "call again with permission_mode 'accept-edits' or 'bypass', or add an allow rule to your "
    "config (~/.config/subagent/config.yaml, or a trusted workspace's .subagent/config.yaml)"
)


class TaskResult(BaseModel):
    """What `run_task` and `reply` return (the tool's structured content)."""

    session_id: str
    """Pass it to `reply` to continue the conversation."""
    status: str
    """`success`, `error_max_turns`, `error_max_budget`, `error_during_execution`,
    `error_permission_denied` or `cancelled`."""
    result: str
    """The agent's final report (or what stopped it)."""
    files_changed: list[str] = []
    usage: Usage = Usage()
    total_cost_usd: float = 0.0
    num_turns: int = 0
    permission_denials: list[PermissionDenial] = []
    """Calls that were refused, with the reason (and how to allow them)."""
    boundary: RunBoundary = RunBoundary()
    """What confined the run: `sandbox` (how bash ran), `network`, whether the workspace was
    `trusted`, and the workspace keys it `refused` (one line each)."""


class AgentInfo(BaseModel):
    name: str
    description: str
    mode: Literal["primary", "subagent", "all"]
    model: str | None = None


class AgentList(BaseModel):
    agents: list[AgentInfo]


class PermissionForm(BaseModel):
    """The elicitation form for one ask."""

    allow: bool = Field(description="Let the agent do this")
    always: bool = Field(
        False,
        description="Also allow the same thing again in this session without asking",
    )


class ElicitationApprover:
    """Asks the MCP client's user through `elicitation/create`; a decline or cancel is a denial."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    async def ask(self, request: AskRequest) -> AskAnswer:
        """One elicitation per ask."""
        who = f" ({request.agent})" if request.agent else ""
        detail = f"\n\n{request.detail}" if request.detail and request.detail != request.title else ""
        message = f"{request.tool_name}{who} wants `{request.permission}`: {request.title}{detail}"
        answer = await self.ctx.elicit(message, PermissionForm)
        if answer.action == "accept" and answer.data.allow:
            return AskAnswer(decision="allow", scope="always" if answer.data.always else "once")
        reason = "declined" if answer.action != "cancel" else "cancelled"
        return AskAnswer(decision="deny", message=f"{request.permission} {reason} by the MCP client's user")


def _approver(ctx: Any) -> Any:
    from agent.permissions.headless import PolicyApprover

    capabilities = ctx.client_capabilities
    offered = capabilities is not None and capabilities.elicitation is not None
    # A 2026-07-28 (stateless) connection has no back-channel for a request in the middle of a
    # call; its input-required round trips do not fit a run that is already under way.
    if offered and ctx.session.can_send_request:
        return ElicitationApprover(ctx)
    return PolicyApprover("deny", NO_ELICITATION)


def _progress_message(event: Event) -> str | None:
    """One line per step a person (or a client's log) can follow; None for other events."""
    who = "" if event.parent_tool_use_id is None else f"[{event.session_id}] "
    if isinstance(event, SessionStartedEvent) and event.parent_tool_use_id is None:
        from agent.trust.notice import notice_lines

        warnings = "".join(f"\nWARNING: {line}" for line in notice_lines(event))
        return f"session {event.session_id} started: {event.agent} on {event.model} in {event.cwd}{warnings}"
    if isinstance(event, TurnStartedEvent):
        return f"{who}turn {event.turn}"
    if isinstance(event, ToolCallStartedEvent):
        return f"{who}{event.title}"
    if isinstance(event, SubagentStartedEvent):
        return f"subagent {event.agent} ({event.child_session_id}): {event.description}"
    return None


class _Run:
    """One run's event stream, consumed in its own task so a cancelled call can still wind it down."""

    def __init__(self, ctx: Any, options: RunOptions) -> None:
        self.ctx = ctx
        self.cancel = asyncio.Event()
        self.options = options.model_copy(update={"approver": _approver(ctx), "cancel": self.cancel})
        self.session_id = ""
        self.boundary = RunBoundary()
        self.result: ResultEvent | None = None
        self.steps = 0

    async def _consume(self) -> None:
        from agent.runtime.assembly import run_events

        async for event in run_events(self.options):
            if isinstance(event, SessionStartedEvent) and not self.session_id:
                self.session_id = event.session_id
                self.boundary = event.boundary()
            if isinstance(event, ResultEvent) and event.parent_tool_use_id is None:
                self.result = event
            message = _progress_message(event)
            if message is not None and not self.cancel.is_set():
                self.steps += 1
                await self.ctx.report_progress(self.steps, None, message)

    async def run(self) -> TaskResult:
        """Run to the end; on cancellation, signal the run and give it time to store its state."""
        from mcp.server.mcpserver.exceptions import ToolError

        what = f"session {self.session_id or '(starting)'}"
        try:
            await run_with_grace(self._consume(), self.cancel, grace_s=CANCEL_GRACE_S, what=what)
        except SubagentError as exc:
            raise ToolError(str(exc)) from exc
        return self._result()

    def _result(self) -> TaskResult:
        from mcp.server.mcpserver.exceptions import ToolError

        r = self.result
        if r is None:
            where = self.session_id or "?"
            raise ToolError(f"session {where}: the run ended without a result; see the server's stderr")
        text = r.result
        if r.permission_denials:
            text += "\n\nDenied:" + "".join(f"\n- {d.tool_name}: {d.reason}" for d in r.permission_denials)
        return TaskResult(
            session_id=self.session_id, status=r.subtype, result=text, files_changed=r.files_changed,
            usage=r.usage, total_cost_usd=r.total_cost_usd, num_turns=r.num_turns,
            permission_denials=r.permission_denials, boundary=self.boundary,
        )  # fmt: skip


def _tool_result(task: TaskResult) -> "CallToolResult":
    """The structured result, flagged `isError` when the run did not succeed (a client must not
    read a refused or failed task as done), with the same JSON as text for clients without
    structured content."""
    from mcp.types import CallToolResult, TextContent

    data = task.model_dump(mode="json")
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(data))],
        structured_content=data,
        is_error=task.status != "success",
    )


def _workspace(cwd: str | None) -> Path:
    from mcp.server.mcpserver.exceptions import ToolError

    path = Path(cwd).expanduser() if cwd else Path.cwd()
    if not path.is_dir():
        raise ToolError(f"cwd {cwd!r} is not a directory; pass an absolute path to the project to work in")
    return path.resolve()


def _session_record(session_id: str) -> Any:
    from mcp.server.mcpserver.exceptions import ToolError

    from agent.runtime.parts import opened_store

    try:
        with opened_store() as store:
            return store.get(session_id)
    except (SessionError, UnknownSessionError) as exc:
        raise ToolError(f"{exc}; use the session_id a run_task call returned") from exc
    except SubagentError as exc:  # a damaged, locked or full store: say which and what to do
        raise ToolError(str(exc)) from exc


def build_server(*, model_client: Any = None, trust: bool = False) -> Any:
    """The MCP server with its three tools; `model_client` fixes the model (the scripted one in tests);
    `trust` trusts the workspace of every task (`subagent mcp --trust`)."""
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import CallToolResult

    server = MCPServer(
        name="subagent", version=__version__,
        instructions="Delegate coding tasks to subagent's agents: run_task starts one, reply continues it.",
    )  # fmt: skip
    remembered: dict[str, AlwaysMemory] = {}
    """Each session's `always` answers, kept while this server runs: a `reply` gets its session's."""

    @server.tool()
    async def run_task(
        prompt: str,
        ctx: Context,
        agent: str = DEFAULT_AGENT,
        cwd: str | None = None,
        model: str | None = None,
        permission_mode: PermissionMode | None = None,
        max_turns: int | None = Field(None, ge=1, le=500),
    ) -> Annotated[CallToolResult, TaskResult]:
        """Run an agent on a coding task in a workspace (cwd) and return its report and changes."""
        always = AlwaysMemory()
        options = RunOptions.build(
            prompt=prompt, agent=agent, cwd=_workspace(cwd), model=model, max_turns=max_turns,
            permission_mode=permission_mode, model_client=model_client, trust=trust, always=always,
        )  # fmt: skip
        task = await _Run(ctx, options).run()
        remembered[task.session_id] = always
        return _tool_result(task)

    @server.tool()
    async def reply(session_id: str, prompt: str, ctx: Context) -> Annotated[CallToolResult, TaskResult]:
        """Continue a session (from run_task's session_id) with a new prompt."""
        record = await asyncio.to_thread(_session_record, session_id)
        options = RunOptions.build(
            prompt=prompt, agent=record.agent, cwd=Path(record.workspace), resume=record.id,
            model_client=model_client, trust=trust, always=remembered.setdefault(record.id, AlwaysMemory()),
        )  # fmt: skip
        return _tool_result(await _Run(ctx, options).run())

    @server.tool()
    async def list_agents(cwd: str | None = None) -> AgentList:
        """The agents run_task can run in a workspace, with what each is for."""
        from agent.registry.discovery import load_registry_for

        try:
            load = functools.partial(load_registry_for, _workspace(cwd), trust=trust)
            registry = await asyncio.to_thread(load)
        except ConfigError as exc:
            raise ToolError(str(exc)) from exc
        return AgentList(agents=[
            AgentInfo(name=a.name, description=a.description, mode=a.mode, model=a.model)
            for a in registry.agents.values() if not a.hidden
        ])  # fmt: skip

    return server


def serve_mcp(*, model_client: Any = None, trust: bool = False) -> None:
    """Serve over stdio until the client closes it (the SDK keeps stdout for the protocol)."""
    build_server(model_client=model_client, trust=trust).run("stdio")
