"""The `task` tool: a primary agent hands a subtask to a subagent and reads back its report.

Input `{description, prompt, subagent_type}` (the shape Claude Code and opencode use). The child
runs as its own session (its persona, model, tools and permissions; linked to the parent session)
through `agent.orchestrator.child.run_child`; its events reach the front end tagged with this
call's id. Several `task` calls in one turn run side by side (conflict key None); when more than
one of them may edit files, each child works in its own worktree and is merged back.
"""

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from agent.errors import SubagentError, ToolInputError
from agent.events import FileChange
from agent.orchestrator.link import ParentLink
from agent.registry.spec import AgentSpec, may_delegate, may_edit
from agent.tool import PermissionRequest, Tool, ToolCallInfo, ToolContext, ToolInput, ToolResult

if TYPE_CHECKING:
    from agent.orchestrator.base import SubtaskResult
    from agent.runtime.parts import RuntimeParts, SessionSeat

_INTRO = (
    "Start a subagent on a self-contained task; it sees only `prompt`, works with its own tools, "
    "and returns its final report, the files it changed and whether verification passed. Call "
    "task several times in one turn to run independent tasks in parallel. Available subagents:"
)


class TaskInput(ToolInput):
    description: str = Field(description="3-5 words saying what the subagent will do")
    prompt: str = Field(description="The whole task: goal, files, constraints, how to verify")
    subagent_type: str = Field(description="Which subagent to use (one of those listed)")


class TaskTool(Tool[TaskInput]):
    """Delegation to the subagents of the parent's registry."""

    name: ClassVar[str] = "task"
    description: ClassVar[str] = _INTRO
    input_model: ClassVar[type[ToolInput]] = TaskInput
    kind: ClassVar[Any] = "other"
    mutates: ClassVar[bool] = True
    """The parent checkpoints before it, so `subagent undo` can take a child's work back."""

    def __init__(self, link: ParentLink, subagents: list[AgentSpec]) -> None:
        self.link = link
        self.subagents = {s.name: s for s in subagents}

    def schema(self) -> dict[str, Any]:  # type: ignore[override]
        """The definition the model sees, listing the subagents this agent may call."""
        base = super().schema()
        lines = [f"- {s.name}: {s.description or '(no description)'}" for s in self.subagents.values()]
        base["description"] = "\n".join([_INTRO, *lines])
        base["input_schema"]["properties"]["subagent_type"]["enum"] = list(self.subagents)
        return base

    def permission_requests(self, input: TaskInput, ctx: ToolContext) -> list[PermissionRequest]:
        return [PermissionRequest(permission="task", patterns=[input.subagent_type])]

    def title(self, input: TaskInput) -> str:
        return f"task {input.subagent_type}: {input.description}"

    def announced(self, ctx: ToolContext) -> None:
        """A `task` call is being written: prepare the base checkout children's trees will share."""
        if any(may_edit(spec) for spec in self.subagents.values()):
            self.link.prepare(ctx.workspace)

    def conflict_key(self, input: TaskInput, ctx: ToolContext) -> str | None:
        return None  # siblings run at once; worktrees keep their edits apart

    async def run(self, input: TaskInput, ctx: ToolContext) -> ToolResult:
        """A task needs its call (its id tags the child's events): see `run_call`."""
        raise ToolInputError("the task tool runs only as a call of the loop (run_call)")

    async def run_call(self, input: TaskInput, ctx: ToolContext, call: ToolCallInfo) -> ToolResult:
        """Run the child for this call: its events go into the run's stream tagged with the call's id."""
        # with the child, not on a run's way to its first request
        from agent.orchestrator.base import SubtaskSpec
        from agent.orchestrator.child import ChildRequest, run_child

        if input.subagent_type not in self.subagents:
            raise ToolInputError(
                f"unknown subagent_type {input.subagent_type!r}; use one of: {', '.join(self.subagents)}"
            )
        if not input.prompt.strip():
            raise ToolInputError("prompt is empty: write the whole task for the subagent")
        tool_use_id = call.tool_use_id
        spec = SubtaskSpec(
            id=tool_use_id,
            agent=input.subagent_type,
            prompt=input.prompt,
            description=input.description,
        )
        request = ChildRequest(
            spec=spec,
            link=self.link,
            workspace=ctx.workspace,
            isolate=self._needs_worktree(input, call),
            tool_use_id=tool_use_id,
            emit=call.emit,
        )
        try:
            result = await run_child(request)
        except SubagentError as exc:  # e.g. no sandbox for its bash: the parent can act on that
            reason = f"the subagent {input.subagent_type} could not run: {exc}"
            return ToolResult(output=reason, is_error=True)
        return ToolResult(
            output=format_result(result),
            is_error=not result.ok,
            files_touched=[str(ctx.workspace / p) for p in result.files_changed if p not in result.conflicts],
            changes=_changes(result, ctx) if result.conflicts == [] and result.ok else [],
        )

    def _needs_worktree(self, input: TaskInput, call: ToolCallInfo) -> bool:
        """True when this child may edit and another `task` call of the same turn may too."""
        if not may_edit(self.subagents[input.subagent_type]):
            return False
        editing = 0
        for name, sibling in call.turn:
            other = self.subagents.get(str(sibling.get("subagent_type"))) if name == "task" else None
            editing += other is not None and may_edit(other)
        return editing > 1


def _changes(result: "SubtaskResult", ctx: ToolContext) -> list[FileChange]:
    """One FileChange per file the child changed; no diff, as the child's own edit events already
    carried each one (front ends would show it twice)."""
    pieces: dict[str, str] = {}
    current: str | None = None
    for line in result.patch.splitlines(keepends=True):
        if line.startswith("diff --git "):
            current = line.rsplit(" b/", 1)[-1].strip()
            pieces[current] = ""
        if current is not None:
            pieces[current] += line
    changes = []
    for rel in result.files_changed:
        diff = pieces.get(rel, "")
        action = "add" if "\nnew file mode" in diff else "update"
        action = "delete" if "\ndeleted file mode" in diff else action
        changes.append(FileChange(path=str(ctx.workspace / rel), action=action))
    return changes


def format_result(result: "SubtaskResult") -> str:
    """The compact text the parent model reads: status, report, files, verification, usage."""
    head = f'<task_result status="{result.status}" agent="{result.agent}" session="{result.session_id}">'
    lines = [head]
    if result.result.strip():
        lines += ["<report>", result.result.strip(), "</report>"]
    if result.error:
        lines.append(f"error: {result.error}")
    if result.files_changed:
        label = (
            "files changed"
            if result.branch is None
            else "files the subagent changed (see above what was merged)"
        )
        lines.append(f"{label}: " + ", ".join(result.files_changed))
    if result.branch:
        lines.append(f"the subagent's work is kept on branch {result.branch} of the shadow repository")
    if result.verification is not None:
        v = result.verification
        state = "passed" if v.passed else f"FAILED (exit {v.exit_code})"
        lines.append(f"verify: {state}: `{v.command}` ({v.rounds} run{'s' if v.rounds != 1 else ''})")
        if not v.passed:
            lines += ["verify output:", v.output]
    u = result.usage
    lines.append(
        f"usage: {result.num_turns} turns, {u.context_tokens} tokens in, {u.output_tokens} out, "
        f"${result.total_cost_usd:.4f}, {result.duration_ms / 1000:.1f}s"
    )
    lines.append("</task_result>")
    return "\n".join(lines)


def with_delegation(parts: "RuntimeParts | None") -> "RuntimeParts":
    """`parts` (None: the runtime's `default_parts()`) with the `task` tool as their session tools,
    unless they bring their own: what every front end runs with (agent.api.run_events), and
    what a dispatch hands its children. The runtime itself knows nothing of the orchestrator."""
    import dataclasses

    from agent.runtime.parts import default_parts

    if parts is None:
        return default_parts(session_tools=task_tools)
    return parts if parts.session_tools is not None else dataclasses.replace(parts, session_tools=task_tools)


def task_tools(seat: "SessionSeat") -> list[Tool[Any]]:
    """The session tools a delegating session gets: `task`, when the agent may delegate."""
    task = delegation(seat)
    return [task] if task is not None else []


def delegation(seat: "SessionSeat") -> TaskTool | None:
    """The `task` tool for the session in `seat`, linked to it, or None: when the agent may not
    delegate at its depth (`may_delegate`; asked first, so a session that cannot gets no link),
    or there is no other agent to hand work to."""
    parent: ParentLink | None = seat.parent
    depth, registry = (0, seat.registry) if parent is None else (parent.depth + 1, parent.registry)
    if not may_delegate(seat.spec, depth, registry.config.defaults.max_depth):
        return None
    listing = getattr(registry, "subagents", None)  # a registry stand-in may have none
    subagents = [s for s in listing() if s.name != seat.spec.name] if listing is not None else []
    if not subagents:
        return None
    fields: dict[str, Any] = dict(
        gate=seat.gate, model=seat.model, session_id=seat.session_id, cancel=seat.cancel,
        parent_tool_use_id=seat.parent_tool_use_id, mcp=seat.mcp,  # the children share the servers
    )  # fmt: skip
    if parent is None:
        link = ParentLink(
            registry=seat.registry, parts=seat.parts, client=seat.client, approver=seat.approver, depth=0,
            permission_mode=seat.permission_mode, **fields,
        )  # fmt: skip
    else:
        link = parent.for_child(
            depth=depth, parts=seat.parts,
            permission_mode=seat.permission_mode or parent.permission_mode, **fields,
        )  # fmt: skip
    return TaskTool(link, subagents)
