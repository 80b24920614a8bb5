"""One child session from start to merged result: the machinery behind `task`, dispatch and the API.

`run_child` takes a checkpoint of the workspace, gives the child its own worktree when siblings
may edit beside it, runs the child (`run_agent(parent=link)`, so it shares the root's approver,
denials, cancel and slots), runs `verify` and sends failures back to the child, then merges the
child's work into the workspace three-way. Work that is not merged (a conflict, a failure) stays
on a branch of the shadow repository. The worktree is removed whatever happens, cancel included.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from agent.events import (
    Event,
    PermissionDenial,
    ResultEvent,
    SubagentFinishedEvent,
    SubagentStartedEvent,
    ToolCallFinishedEvent,
    ToolCallStartedEvent,
    Usage,
)
from agent.orchestrator.base import SubtaskResult, SubtaskSpec, VerifyResult
from agent.orchestrator.link import ParentLink
from agent.orchestrator.merge import MergeOutcome, MergeRequest, child_changes, ref_safe
from agent.orchestrator.trees import PENDING, ChildTree, tree_kind
from agent.orchestrator.trees import populate as populate_tree
from agent.orchestrator.trees import reserve as reserve_tree
from agent.orchestrator.verify import VerifyRun, feedback_prompt, run_verify
from agent.runtime.checkpointing import END_OF_RUN
from agent.sessions.checkpoints import ShadowRepo

EMPTY_REPORT = "the subagent finished without a final report (an empty result is an error, not a success)"
RESUME_PROMPT = "You were interrupted. Continue the task from where you stopped, then report."
Emit = Callable[[Event], None]


@dataclasses.dataclass(eq=False, repr=False)
class _Tally:
    """What the child's runs (first, and after each failed verify) add up to."""

    result: ResultEvent | None = None
    session_id: str | None = None
    usage: Usage = dataclasses.field(default_factory=Usage)
    cost: float = 0.0
    turns: int = 0
    denials: list[PermissionDenial] = dataclasses.field(default_factory=list)
    error: str | None = None
    """The last error the child's own stream reported (an API failure, a store failure)."""
    announced: bool = False
    tree: Any = None
    """The kind of the child's own tree (`overlay`, `checkout`), None in place: `subagent_started` says it."""
    end_of_run: str | None = None
    """The snapshot the child's run took as it ended, when it was the run's last (in place)."""

    def add(self, result: ResultEvent) -> None:
        self.result = result
        self.usage = self.usage + result.usage
        self.cost += result.total_cost_usd
        self.turns += result.num_turns
        self.denials.extend(result.permission_denials)


@dataclasses.dataclass(eq=False, repr=False)
class ChildRequest:
    """One child to run under `link`."""

    spec: SubtaskSpec
    link: ParentLink
    workspace: Path
    """Where the child's work must land."""
    isolate: bool
    """Run in a worktree and merge back (siblings may edit beside it)."""
    tool_use_id: str | None = None
    """The parent's `task` call: the child's events carry it as `parent_tool_use_id`."""
    emit: Emit | None = None
    resume: str | None = None
    """Continue this session of the child instead of starting one (a retried remote attempt)."""
    reply: bool = False
    """With `resume`: the spec's prompt is a new message for the session (an MCP `reply`), not
    the task to pick up again (then the child is told to continue where it stopped)."""


async def run_child(request: ChildRequest) -> SubtaskResult:
    """Run the child to a merged, verified result (see the module docstring)."""
    spec, link = request.spec, request.link
    started = time.monotonic()
    agent_spec = link.registry.get(spec.agent)
    repo = ShadowRepo(request.workspace)
    name = ref_safe(f"{spec.agent}-{spec.id}")
    tally = _Tally()
    worktree: ChildTree | None = None
    ready: asyncio.Future[Any] | None = None
    removal: asyncio.Future[None] | None = None
    try:
        async with link.slot(link.depth + 1):
            # The checkpoint (a scan of the workspace) and the child's tree are made while the
            # child's run is set up and its first model turn is in flight; its tools wait for them.
            taken = asyncio.ensure_future(link.checkpoint(repo, f"before {name}"))
            if request.isolate:
                kind, _why = tree_kind(link.registry.config.defaults.worktrees)
                worktree = reserve_tree(kind, repo, PENDING, name)
                tally.tree = worktree.kind
                ready = asyncio.ensure_future(_fill(link, repo, worktree, taken))
            else:
                ready = taken
            ready.add_done_callback(_retrieved)  # a failure is raised below, or lost with a cancel
            workdir = worktree.path if worktree is not None else request.workspace
            verification = await _run_and_verify(request, agent_spec, workdir, worktree, ready, tally)
            await ready
            base = taken.result()
            if worktree is not None:
                theirs = await asyncio.to_thread(worktree.snapshot, f"{name} done")
            elif tally.end_of_run is not None and verification is None:
                theirs = tally.end_of_run  # the run's last snapshot: nothing ran since
            else:
                theirs = await asyncio.to_thread(repo.snapshot, f"{name} done")
            if worktree is not None:  # its work is in `theirs` now: remove it while merging
                removal = asyncio.ensure_future(_discard(worktree, ready))
        status, error = _status(tally, verification)
        work = MergeRequest(base=base, theirs=theirs, name=name, files=[], patch="")
        merge = await _bring_back(link, repo, work, worktree is not None, status == "success")
    finally:
        if worktree is not None and removal is None:
            removal = asyncio.ensure_future(_discard(worktree, ready))
        if removal is not None:
            await asyncio.shield(removal)
    if merge.conflicts or merge.refused:
        status = "error_merge_conflict"
        error = _merge_error(merge)
    result = SubtaskResult(
        id=spec.id,
        agent=spec.agent,
        status=status,
        result=tally.result.result if tally.result else "",
        session_id=tally.session_id,
        transcript_ref=tally.session_id,
        files_changed=[f.path for f in merge.files],
        patch=merge.patch,
        conflicts=[*merge.conflicts, *merge.refused],
        branch=merge.branch,
        verification=verification,
        usage=tally.usage,
        total_cost_usd=tally.cost,
        num_turns=tally.turns,
        duration_ms=(time.monotonic() - started) * 1000,
        error=error,
        permission_denials=tally.denials,
    )
    if merge.hunks:
        result.error = f"{error}\n{merge.hunks}"
    _announce_finish(request, tally, result)
    return result


def _merge_error(merge: MergeOutcome) -> str:
    """What the merge did not do, for the parent: conflicts, and paths it refused (with why)."""
    parts = [f"merge conflict in {', '.join(merge.conflicts)}"] if merge.conflicts else []
    if merge.refused:
        done = "nothing of its work was merged" if not merge.merged else "the rest of its work was merged"
        listed = "; ".join(f"{path}: {why}" for path, why in merge.refused.items())
        parts.append(f"not merged (the workspace does not have these changes): {listed}; {done}")
    return "; ".join(parts) + f"; the subagent's work is on {merge.branch}"


async def _bring_back(
    link: ParentLink, repo: ShadowRepo, request: MergeRequest, isolated: bool, succeeded: bool
) -> MergeOutcome:
    """What the child changed; merged when it worked in a worktree and succeeded, else kept."""
    files, patch = await asyncio.to_thread(child_changes, repo, request.base, request.theirs)
    if not isolated:  # it worked in place: its changes are already there
        return MergeOutcome(merged=True, files=files, patch=patch)
    if succeeded:
        merged: MergeOutcome = await link.merge_queue(repo).merge(
            request.model_copy(update={"files": files, "patch": patch})
        )
        return merged
    label = f"subagent/{request.name}-{request.theirs[:8]}"
    branch = await asyncio.to_thread(repo.create_branch, label, request.theirs) if files else None
    return MergeOutcome(merged=False, files=files, patch=patch, branch=branch)


async def _fill(link: ParentLink, repo: ShadowRepo, tree: ChildTree, taken: asyncio.Future[str]) -> None:
    """Fill the child's tree with the checkpoint `taken` once it is taken."""
    tree.starts_at(await taken)
    await populate_tree(link, repo, tree)


def _retrieved(done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()


async def _discard(worktree: ChildTree, ready: asyncio.Future[Any] | None) -> None:
    """Remove the worktree once its checkout stopped writing into it (also after a cancel)."""
    if ready is not None:
        with contextlib.suppress(Exception):
            await ready
    await worktree.remove_async()


def _waiting(tool: Any, ready: asyncio.Future[Any]) -> Any:
    """`tool`, whose calls wait until the checkpoint is taken and the worktree is filled."""
    run = tool.run

    async def run_when_ready(input: Any, ctx: Any) -> Any:
        await ready
        return await run(input, ctx)

    tool.run = run_when_ready
    return tool


def _ends_noted(snapshot: Any, ready: asyncio.Future[Any], tally: _Tally) -> Any:
    """The run's snapshots of the workspace, after `ready`; the end of a run's is kept in `tally`."""
    if snapshot is None:
        return None

    async def noted(label: str) -> str:
        await ready
        sha: str = await snapshot(label)
        tally.end_of_run = sha if label == END_OF_RUN else None
        return sha

    return noted


def _status(tally: _Tally, verification: VerifyResult | None) -> tuple[Any, str | None]:
    """The child's status and what went wrong, in the runtime's words (its report stays in `result`)."""
    final = tally.result
    if final is None:
        return "error_during_execution", tally.error or "the subagent ended without a result"
    if final.subtype != "success":
        return final.subtype, _failure(final.subtype, tally)
    if not final.result.strip():
        return "error_empty_result", EMPTY_REPORT
    if verification is not None and not verification.passed:
        return "error_verify_failed", f"`{verification.command}` still fails after {verification.rounds} runs"
    return "success", None


async def _run_and_verify(
    request: ChildRequest,
    agent_spec: Any,
    workdir: Path,
    worktree: ChildTree | None,
    ready: asyncio.Future[Any],
    tally: _Tally,
) -> VerifyResult | None:
    """The child's run, then verify and resume with the failure until it passes or rounds run out.

    Its tools and its checkpoints wait for `ready` (the checkpoint it starts from taken, its tree
    filled), so nothing it does comes before them; in a tree of its own, so does what its first
    request reads of its cwd (the project's instructions, skills, git status)."""
    spec, link = request.spec, request.link
    load = link.parts.load_tools
    parts = dataclasses.replace(
        link.parts,
        load_registry=lambda _cwd, _trust: link.registry,
        open_store=link.open_store,
        load_tools=lambda names: [_waiting(t, ready) for t in load(names)],
        make_snapshot=lambda cwd: _ends_noted(link.parts.make_snapshot(cwd), ready, tally),
    )
    if worktree is not None:

        async def filled() -> None:
            await asyncio.shield(ready)

        async def snapshot(label: str) -> str:
            await ready
            return await worktree.snapshot_async(label)

        async def changed(_cwd: Path, a: str, b: str) -> list[str]:
            """The worktree's changes, bash's included: its snapshots live in the workspace's shadow."""
            files = await asyncio.to_thread(worktree.repo.changed_files, a, b)
            return [str(workdir / f.path) for f in files]

        parts = dataclasses.replace(
            parts, make_snapshot=lambda _cwd: snapshot, changed_files=changed, cwd_filled=filled
        )
    first = RESUME_PROMPT if request.resume and not request.reply else spec.prompt
    await _drive(request, tally, _start(request, parts, workdir, first, resume=request.resume))
    command = spec.verify or agent_spec.verify
    if not command:
        return None
    await ready
    defaults = link.registry.config.defaults
    rounds = max(0, defaults.verify_rounds) + 1
    runs = 0
    last: VerifyRun | None = None
    while _reported(tally) and runs < rounds:
        runs += 1
        sandbox = _sandbox(parts, defaults, workdir, agent_spec.network)
        verifying = run_verify(command, sandbox, workdir, link.cancel)
        last = await _verify_shown(request, tally, command, runs, verifying)
        if last.passed or runs == rounds or tally.session_id is None:
            break
        prompt = feedback_prompt(command, last, runs, rounds - 1)
        await _drive(request, tally, _start(request, parts, workdir, prompt, resume=tally.session_id))
    if last is None:
        return None
    return VerifyResult(
        command=command, passed=last.passed, exit_code=last.exit_code, output=last.output, rounds=runs
    )


async def _verify_shown(
    request: ChildRequest, tally: _Tally, command: str, number: int, run: Awaitable[VerifyRun]
) -> VerifyRun:
    """Run verify, shown as an `execute` call in the child's stream so every front end sees it."""
    emit = request.emit or (lambda _event: None)
    ids = {
        "session_id": tally.session_id or "",
        "parent_tool_use_id": request.tool_use_id,
        "tool_use_id": f"verify_{request.spec.id}_{number}",
        "name": "verify",
    }
    emit(ToolCallStartedEvent(**ids, input={"command": command}, kind="execute", title=f"verify: {command}"))
    started = time.monotonic()
    outcome = await run
    emit(
        ToolCallFinishedEvent(
            **ids,
            output=outcome.output,
            is_error=not outcome.passed,
            duration_ms=(time.monotonic() - started) * 1000,
        )
    )
    return outcome


def _failure(subtype: str, tally: _Tally) -> str:
    if subtype == "error_permission_denied":
        reasons = "; ".join(dict.fromkeys(d.reason for d in tally.denials)) or "a call was refused"
        return f"permission denied: {reasons}"
    if subtype == "error_max_turns":
        return f"stopped after {tally.turns} turns (its max_turns)"
    if subtype == "error_max_budget":
        return f"stopped at ${tally.cost:.4f} (its budget)"
    if subtype == "cancelled":
        return "cancelled"
    return tally.error or subtype


def _reported(tally: _Tally) -> bool:
    final = tally.result
    return final is not None and final.subtype == "success" and bool(final.result.strip())


def _sandbox(parts: Any, defaults: Any, workdir: Path, network: bool) -> Any:
    from agent.errors import SubagentError
    from agent.paths import data_home
    from agent.sandbox.policy import policy_for

    try:
        policy = policy_for(defaults.sandbox, workdir, data_dir=data_home())
        return parts.make_sandbox(defaults.sandbox, policy, network)
    except SubagentError:
        return None  # run_verify reports that it could not run


def _start(
    request: ChildRequest, parts: Any, workdir: Path, prompt: str, *, resume: str | None
) -> AsyncIterator[Event]:
    from agent.runtime.assembly import run_events
    from agent.runtime.options import RunOptions

    spec, link = request.spec, request.link
    options = RunOptions(
        prompt=prompt,
        agent=spec.agent,
        cwd=workdir,
        model=spec.model,
        max_turns=spec.max_turns,
        permission_mode=spec.permission_mode or link.permission_mode,
        approver=link.approver,
        always=link.always,
        resume=resume,
        model_client=link.client,
        cancel=link.cancel,
        parent_tool_use_id=request.tool_use_id,
        parent_model=link.model,
        parts=parts,
        parent=link,
    )
    return run_events(options)


async def _drive(request: ChildRequest, tally: _Tally, events: AsyncIterator[Event]) -> None:
    """Forward the child's events to the parent, announcing the child first; keep its result."""
    emit = request.emit or (lambda _event: None)
    try:
        async for event in events:
            if event.type == "session_started" and tally.session_id is None:
                tally.session_id = event.session_id
            if not tally.announced and tally.session_id is not None:
                tally.announced = True
                link = request.link
                emit(SubagentStartedEvent(
                    session_id=link.session_id or tally.session_id,
                    parent_tool_use_id=request.link.parent_tool_use_id, child_session_id=tally.session_id,
                    agent=request.spec.agent, description=request.spec.description or request.spec.id,
                    worktree=tally.tree,
                ))  # fmt: skip
            emit(event)
            if event.session_id != tally.session_id:
                continue
            if event.type == "result":
                tally.add(event)
            elif event.type == "error" and not event.retrying:
                tally.error = event.message
    finally:
        await events.aclose()  # type: ignore[attr-defined]


def _announce_finish(request: ChildRequest, tally: _Tally, result: SubtaskResult) -> None:
    if request.emit is None or tally.session_id is None:
        return
    subtype = result.status if result.status in _RESULT_SUBTYPES else "error_during_execution"
    request.emit(SubagentFinishedEvent(
        session_id=request.link.session_id or tally.session_id,
        parent_tool_use_id=request.link.parent_tool_use_id, child_session_id=tally.session_id,
        agent=result.agent, subtype=subtype, files_changed=result.files_changed,
    ))  # fmt: skip


_RESULT_SUBTYPES = {
    "success",
    "error_max_turns",
    "error_max_budget",
    "error_during_execution",
    "error_permission_denied",
    "cancelled",
}
