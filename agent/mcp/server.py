"""`subagent mcp`: the runtime as MCP tools over stdio, for orchestrator agents and programs.

Tools: `run_task` (run an agent on a task in a workspace), `reply` (continue a session with a new
prompt) and `list_agents`. Each run is one `agent.runtime.assembly.run_events` stream: every step (model
turn, tool call, subagent) is a progress notification, so clients that time out quiet calls keep
waiting; the first names the session id, so a cancelled call can still be continued with `reply`.
`notifications/cancelled` sets the run's cancel signal and lets it wind down (dangling tool calls
answered, status stored) before the handler gives up. Asks go to the client by elicitation when
it declared it, under every protocol version (agent/mcp/asks.py: a request in the middle of the
call up to 2025-11-25, `input_required` round trips on 2026-07-28); otherwise they are denied,
and the result says what was denied and how to allow it. `reply` keeps the session's model,
permission mode, turn limit and `always` answers (`KeptOptions`). `list_agents` is annotated
read-only; `run_task` and `reply` change files, but not destructively (every change is
checkpointed: `subagent undo`). `run_task`'s `isolate` runs the task in a tree of its own,
merged back when it succeeds (agent/mcp/isolated.py).

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
    PermissionDenial,
    RunBoundary,
    Usage,
)
from agent.mcp.asks import RoundTrip, uses_input_required
from agent.mcp.isolated import IsolatedRun, IsolatedWorkspaces
from agent.mcp.runs import LiveRuns, McpRun
from agent.permissions.always import AlwaysMemory
from agent.permissions.models import PermissionMode
from agent.runtime.options import RunOptions

if TYPE_CHECKING:
    from mcp.types import CallToolResult, InputRequiredResult

log = logging.getLogger(__name__)


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
    `trusted`, the workspace keys it `refused` (one line each), and its `mcp_servers`."""
    isolated: bool = False
    """It ran in a tree of its own (`isolate: true`); the fields below say what became of its work."""
    merged: bool = False
    """Its changes were merged into the workspace (`files_changed`)."""
    conflicts: list[str] = []
    """Files it changed that the workspace changed too, in the same places: nothing was merged."""
    branch: str | None = None
    """When not merged: the branch of the workspace's shadow repository holding its work."""
    patch: str = ""
    """When not merged: its work as a unified diff against where it started."""
    take: str = ""
    """Where its changes are and how to take them (also at the end of `result`)."""


class AgentInfo(BaseModel):
    name: str
    description: str
    mode: Literal["primary", "subagent", "all"]
    model: str | None = None


class AgentList(BaseModel):
    agents: list[AgentInfo]


def _task_result(run: Any) -> TaskResult:
    from mcp.server.mcpserver.exceptions import ToolError

    r = run.result
    if r is None:
        where = run.session_id or "?"
        raise ToolError(f"session {where}: the run ended without a result; see the server's stderr")
    text = r.result
    if r.permission_denials:
        text += "\n\nDenied:" + "".join(f"\n- {d.tool_name}: {d.reason}" for d in r.permission_denials)
    fields = {"status": r.subtype, "files_changed": r.files_changed, **run.outcome()}
    for said in (fields.pop("error", ""), fields.get("take", "")):
        text += f"\n\n{said}" if said else ""
    return TaskResult(
        session_id=run.session_id, result=text, usage=r.usage, total_cost_usd=r.total_cost_usd,
        num_turns=r.num_turns, permission_denials=r.permission_denials, boundary=run.boundary, **fields,
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


class KeptOptions:
    """What each session was run with here (model, permission mode, turn limit) and its one
    `AlwaysMemory`, so `reply` keeps them: an `always` answer holds for the task and its
    replies, and for no other session. A session started by another server process keeps its
    model (the session record has it); its mode and limit are the config's unless the call
    names them, and its memory starts empty."""

    KEYS = ("model", "permission_mode", "max_turns")

    def __init__(self) -> None:
        self._by_session: dict[str, dict[str, Any]] = {}
        self._always: dict[str, AlwaysMemory] = {}
        self.isolated: dict[str, Path] = {}
        """Sessions run with `isolate`, and the workspace their replies merge into."""

    def remember(self, session_id: str, options: RunOptions, isolated: bool) -> None:
        self._by_session[session_id] = {key: getattr(options, key) for key in self.KEYS}
        if options.always is not None:
            self._always[session_id] = options.always
        if isolated:
            self.isolated[session_id] = options.cwd

    def for_session(self, record: Any, overrides: dict[str, Any]) -> dict[str, Any]:
        """The options a `reply` to `record` runs with: the call's, else the session's."""
        kept = self._by_session.get(record.id) or {"model": record.model or None}
        always = self._always.setdefault(record.id, AlwaysMemory())
        return {**{key: overrides.get(key) or kept.get(key) for key in self.KEYS}, "always": always}


async def _call(
    live: LiveRuns, kept: KeptOptions, ctx: Any, options: RunOptions, isolated: IsolatedWorkspaces | None
) -> "CallToolResult | InputRequiredResult":
    """Start a run (or, with `request_state`, pick up the one waiting for these answers) and
    return its result, or `input_required` while asks wait for a 2026-07-28 client. With
    `isolated`, the run is an isolated task (agent.mcp.isolated)."""
    from mcp.server.mcpserver.exceptions import ToolError

    token = ctx.request_state or ""
    try:
        if token:
            run = live.resume(token, ctx)
        else:
            trip = RoundTrip() if uses_input_required(ctx) else None
            run = IsolatedRun(ctx, options, trip, isolated) if isolated else McpRun(ctx, options, trip)
            run.start()
            token = live.keep(run) if run.round_trip is not None else ""
        ended = await run.settle()
    except SubagentError as exc:
        live.drop(token)
        raise ToolError(str(exc)) from exc
    except asyncio.CancelledError:
        live.drop(token)
        raise
    if not ended:
        assert run.round_trip is not None
        return run.round_trip.input_required(token)
    live.drop(token)
    kept.remember(run.session_id, run.options, isinstance(run, IsolatedRun))
    return _tool_result(_task_result(run))


def _workspace(cwd: str | None) -> Path:
    from mcp.server.mcpserver.exceptions import ToolError

    path = Path(cwd).expanduser() if cwd else Path.cwd()
    if not path.is_dir():
        raise ToolError(f"cwd {cwd!r} is not a directory; pass an absolute path to the project to work in")
    return path.resolve()


def _reply_workspace(record: Any) -> Path:
    from mcp.server.mcpserver.exceptions import ToolError

    path = Path(record.workspace)
    if not path.is_dir():
        raise ToolError(
            f"session {record.id} worked in {path}, which is gone (an isolated task's tree is removed "
            "when it ends, and this server did not start it); start a new run_task"
        )
    return path


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
    from mcp.types import CallToolResult, InputRequiredResult, ToolAnnotations

    server = MCPServer(
        name="subagent", version=__version__,
        instructions="Delegate coding tasks to subagent's agents: run_task starts one, reply continues it.",
    )  # fmt: skip

    live, kept, isolated = LiveRuns(), KeptOptions(), IsolatedWorkspaces(trust)
    acts = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                           open_world_hint=False)  # fmt: skip

    @server.tool(annotations=acts)
    async def run_task(
        prompt: str,
        ctx: Context,
        agent: str = DEFAULT_AGENT,
        cwd: str | None = None,
        model: str | None = None,
        permission_mode: PermissionMode | None = None,
        max_turns: int | None = Field(None, ge=1, le=500),
        isolate: bool = False,
    ) -> Annotated[CallToolResult, TaskResult] | InputRequiredResult:
        """Run an agent on a coding task in a workspace (cwd) and return its report and changes.

        With isolate: true the task runs in a copy of the workspace of its own and its changes
        are merged back when it succeeds (a conflict or a failure leaves them on a branch, and
        the result says where and how to take them); isolated tasks may run at the same time,
        in one workspace too. Without it, the task works in place and holds the workspace: a
        second one there is refused as busy."""
        options = RunOptions.build(
            prompt=prompt, agent=agent, cwd=_workspace(cwd), model=model, max_turns=max_turns,
            permission_mode=permission_mode, model_client=model_client, trust=trust, always=AlwaysMemory(),
        )  # fmt: skip
        return await _call(live, kept, ctx, options, isolated if isolate else None)

    @server.tool(annotations=acts)
    async def reply(
        session_id: str,
        prompt: str,
        ctx: Context,
        model: str | None = None,
        permission_mode: PermissionMode | None = None,
        max_turns: int | None = Field(None, ge=1, le=500),
    ) -> Annotated[CallToolResult, TaskResult] | InputRequiredResult:
        """Continue a session (from run_task's session_id) with a new prompt. The session keeps
        the model, permission_mode and max_turns it was started with; pass one to change it."""
        record = await asyncio.to_thread(_session_record, session_id)
        overrides = {"model": model, "permission_mode": permission_mode, "max_turns": max_turns}
        workspace = kept.isolated.get(record.id) or _reply_workspace(record)
        options = RunOptions.build(
            prompt=prompt, agent=record.agent, cwd=workspace, resume=record.id,
            **kept.for_session(record, overrides), model_client=model_client, trust=trust,
        )  # fmt: skip
        return await _call(live, kept, ctx, options, isolated if record.id in kept.isolated else None)

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
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
