"""`run_events`: the runtime's way to run one agent on one task, as a stream of events.

It assembles what the loop needs (registry and spec, model and its limits, tools and their
context, sandbox, permission gate, session store, checkpoints) and runs `agent.loop.agent_loop`.
The front ends and the Python API call it through `agent.api.run_events`, which composes the
orchestrator's `task` tool into the parts; a child run (agent.orchestrator.child) calls it
directly with its parent's parts.

Example:
    async for event in run_events(RunOptions(prompt="add a /health endpoint", cwd=Path("."))):
        if event.type == "result":
            print(event.subtype, event.result)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

from agent.context import ContextPolicy
from agent.errors import ConfigError, SandboxUnavailableError
from agent.events import Event
from agent.hooks.runner import HookRunner
from agent.loop.agent_loop import run_loop
from agent.loop.loop_setup import LoopSetup, SessionTotals
from agent.loop.tool_calls import ToolRunner
from agent.mcpclient.for_run import servers_for_run
from agent.mcpclient.for_run import tools_of as mcp_tools_of
from agent.mcpclient.for_run import with_servers as with_mcp_servers
from agent.model.base import ModelClient
from agent.model.pricing import require_price
from agent.model.resolve import ResolvedModel, resolve_model, resolve_model_id
from agent.paths import data_home
from agent.prompt.command_grant import rules_for_run
from agent.prompt.instructions import load_project_instructions
from agent.prompt.request import environment_block
from agent.registry.schema import RegistryConfig
from agent.registry.spec import AgentSpec, may_delegate, may_edit
from agent.runtime.checkpointing import checkpointer
from agent.runtime.options import RunOptions
from agent.runtime.parts import RuntimeParts, SessionSeat, default_parts
from agent.runtime.question_order import QuestionAfterShown
from agent.runtime.session_open import claim, load_history, open_session
from agent.sandbox.base import Sandbox
from agent.sandbox.policy import FsPolicy, extra_roots_of, policy_for
from agent.sessions.leftovers import refuse_if_busy, workspace_for_run
from agent.skills.discovery import find_skills, skills_prompt
from agent.skills.skill_tool import SkillTool
from agent.tool import ToolContext
from agent.trust.notice import run_boundary


def default_model_client() -> ModelClient:
    """The Messages API, with ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from the environment."""
    from agent.model.anthropic_client import AnthropicModel
    from agent.model.credentials import require_api_key

    require_api_key()
    return AnthropicModel(base_url=os.environ.get("ANTHROPIC_BASE_URL") or None)


async def _fallback_model(
    config: RegistryConfig, client: ModelClient, name: str | None, model_id: str
) -> ResolvedModel | None:
    """The model asked when the run's stays overloaded (`fallback_model`), resolved as `--model` is;
    the run's own model is an error, as in Claude Code."""
    if name is None:
        return None
    fallback_id = resolve_model_id(config, None, name, None)
    if fallback_id == model_id:
        raise ConfigError(
            f"the fallback model {name!r} is the run's model {model_id}; name a different one, or none"
        )
    info = None if fallback_id in config.models else await client.model_info(fallback_id)
    return resolve_model(config, None, name, None, info)


async def run_events(options: RunOptions) -> AsyncGenerator[Event]:
    """Run `options.agent` on `options.prompt` in `options.cwd` and yield its events; the last one
    is the ResultEvent.

    `compact_only` (with `resume`, no prompt) compacts the session's history now and ends
    without a model turn: a CompactionEvent when there was something to compact, then the result.

    Raises ConfigError (before any event) when the run cannot start as asked: unknown agent,
    no API key, no session to resume.
    `parent` runs the agent as a subagent (agent.orchestrator): it shares the parent's approver,
    denials, cancel and slots, and is linked to the parent session.
    `trust` trusts the workspace for this run (`--trust`): its config and personas apply as written
    even when the user's trusted folders do not list it (docs/security.md).
    `mcp_servers`: MCP servers the caller names (an editor's, over ACP), besides the configured ones;
    `mcp_kept` keeps the run's servers for the next run of a front end's session (ACP).
    """
    parts = options.parts or default_parts()
    client = options.model_client or default_model_client()
    cwd = options.cwd.resolve()
    # The environment block (git status) is known before the first request, as it is part of the
    # cached prompt; its subprocess runs while the rest is assembled. An early error drops it.
    environment = asyncio.ensure_future(environment_block(cwd))
    environment.add_done_callback(lambda task: task.cancelled() or task.exception())
    registry = await asyncio.to_thread(parts.load_registry, cwd, options.trust)  # reads and validates files
    config = registry.config
    spec: AgentSpec = registry.get(options.agent)
    model_id = resolve_model_id(config, spec.model, options.model, options.parent_model)
    info = None if model_id in config.models else await client.model_info(model_id)
    resolved = resolve_model(config, spec.model, options.model, options.parent_model, info)
    fallback = await _fallback_model(config, client, options.fallback_model, resolved.id)
    budget = options.max_budget_usd if options.max_budget_usd is not None else config.defaults.max_budget_usd
    for model in filter(None, (resolved, fallback)):  # a budget needs a price, or it bounds nothing
        await require_price(model.id, model.price, budget)
    editing = options.parent is None and _may_change(
        spec, options.permission_mode or config.defaults.permission_mode, config
    )
    if editing:  # before a session is made: a refused run leaves nothing behind
        await asyncio.to_thread(refuse_if_busy, cwd)

    store = await asyncio.to_thread(parts.open_store)  # connects to SQLite and migrates
    record, resumed = await open_session(
        store,
        spec=spec,
        cwd=cwd,
        model=resolved.id,
        resume=options.resume,
        continue_latest=options.continue_latest,
        fork=options.fork,
        parent_tool_use_id=options.parent_tool_use_id,
        title=options.prompt or "",
        session_id=options.session_id,
        parent_id=options.parent.session_id if options.parent is not None else None,
    )
    session_id = record.id
    defaults = config.defaults
    cancel = options.cancel or asyncio.Event()
    extra_roots = extra_roots_of(defaults.sandbox, cwd)
    outputs = store.output_dir(session_id)
    policy = await asyncio.to_thread(
        policy_for,
        defaults.sandbox,
        cwd,
        data_dir=data_home(),
        outputs=outputs,
        extra_readable=_sandbox_programs(parts, spec),
    )
    sandbox = await asyncio.to_thread(_sandbox_for, parts, spec, defaults.sandbox, policy)  # probes bwrap
    instructions = await asyncio.to_thread(load_project_instructions, cwd)
    ctx = ToolContext(
        workspace=cwd,
        data_dir=outputs,
        sandbox=sandbox,
        extra_roots=extra_roots,
        cancel=cancel,
        bash_timeout_s=defaults.tool_timeouts.bash,
        bash_max_timeout_s=defaults.tool_timeouts.bash_max,
        editor=options.editor,
        policy=policy,
        read_notes=instructions.folder_notes(cwd),  # a subfolder's instructions, with its first read
    )
    approver = options.approver or parts.headless_approver()
    granted, grant_refused = rules_for_run(options.grant, registry, cwd)  # a custom command's allowed-tools
    in_order = QuestionAfterShown(approver) if options.parent is None else None  # the root's, for the tree
    approver = in_order or approver
    if (
        options.parent is not None and options.parent.gate is not None
    ):  # the root's approver, the parent's denials
        gate = options.parent.gate.child(list(spec.permission))
        gate.mode = options.permission_mode or options.parent.gate.mode
    else:
        mode = options.permission_mode or defaults.permission_mode
        rules = [*spec.permission, *granted]  # a command's grant after every configured rule
        gate = parts.make_gate(rules, mode, approver, defaults.ask_timeout_s, options.always)
    skills, _ = await asyncio.to_thread(find_skills, cwd)
    built_in = parts.load_tools([t for t in spec.tools if t != "webfetch"])  # the seam's tools
    tools = {tool.name: tool for tool in built_in}
    if "webfetch" in spec.tools:  # imported only then: the fetcher and its model are 7 M instructions
        from agent.web.webfetch_tool import WebFetchTool

        tools[WebFetchTool.name] = WebFetchTool(_local_fetch_rule(getattr(gate, "rules", spec.permission)))
    mcp = await servers_for_run(  # they start in the background: the first request does not wait
        cwd=cwd, registry=registry, spec=spec, log_dir=outputs, parent=options.parent,
        editor=options.mcp_servers, kept=options.mcp_kept,
    )  # fmt: skip
    try:  # from here on, the servers stop with the run whatever happens
        seat = SessionSeat(
            spec=spec, registry=registry, parts=parts, client=client, gate=gate, approver=approver,
            model=resolved.id, session_id=session_id, cancel=cancel, permission_mode=options.permission_mode,
            parent_tool_use_id=options.parent_tool_use_id, parent=options.parent, mcp=mcp,
        )  # fmt: skip
        # The tools from outside the runtime see the run's MCP servers in their seat (the `task` tool
        # hands them to its children); they go in the runner's dict before the servers' own tools.
        for tool in parts.session_tools(seat) if parts.session_tools is not None else []:
            tools[tool.name] = tool
        if skills:
            tools[SkillTool.name] = SkillTool(skills)
        tools.update(mcp_tools_of(mcp, set(tools)))  # the runner's dict: the loop reads its schemas
        checkpoints = await checkpointer(parts, cwd, store, session_id)
        mode = (
            getattr(gate, "mode", None) or options.permission_mode or defaults.permission_mode
        )  # a test's gate may have none
        hooks = await _hooks_for(
            registry, parts, sandbox, policy, cwd, session_id, mode, options.parent_tool_use_id
        )
        runner = ToolRunner(
            session_id=session_id,
            agent=spec.name,
            tools=tools,
            ctx=ctx,
            gate=gate,
            checkpointer=checkpoints,
            on_start=functools.partial(store.mark_tool_started, session_id),  # for repair after a crash
            parent_tool_use_id=options.parent_tool_use_id,
            hooks=hooks,
        )
        setup = LoopSetup(
            session_id=session_id,
            spec=spec,
            files_changed=checkpoints.files_changed if checkpoints is not None else None,
            model=resolved,
            client=client,
            runner=runner,
            env_block="\n\n".join(
                filter(None, (instructions.text, skills_prompt(skills, spec.skills), await environment))
            ),
            store=store,
            history=[],  # loaded below, under the session's lock
            max_turns=options.max_turns or spec.max_turns or defaults.max_turns,
            max_output_tokens=spec.max_output_tokens or defaults.max_output_tokens,
            max_budget_usd=budget,
            fallback=fallback,
            cancel=cancel,
            parent_tool_use_id=options.parent_tool_use_id,
            resumed=resumed,
            compact_only=options.compact_only,
            boundary=run_boundary(spec, sandbox, defaults.sandbox.kind, registry, grant_refused),
            hooks=hooks,
            prior=SessionTotals(record.usage, record.cost_usd, record.num_turns),
            context=ContextPolicy(
                reserve_tokens=defaults.context_reserve_tokens,
                caching=defaults.prompt_caching,
                elision=defaults.elide_tool_outputs,
                server_compaction=resolved.server_compaction,
            ),
        )
        setup.boundary = with_mcp_servers(setup.boundary, mcp, root=options.parent is None)
        with _workspace_held(options, cwd, session_id, editing), store.lock(session_id):
            if resumed:
                record = await asyncio.to_thread(store.get, session_id)  # as the last holder left it
                await claim(store, record, first_run=options.fork)
                setup.prior = SessionTotals(record.usage, record.cost_usd, record.num_turns)
                setup.history, setup.last_seq = await load_history(store, parts, session_id)
            async with contextlib.aclosing(run_loop(setup, options.prompt)) as loop:
                async for event in loop:  # closed under the lock: a closed run lets go of the session last
                    yield event
                    if in_order is not None:  # the consumer is back for more: it has shown `event`
                        in_order.taken(event)
    finally:
        if mcp is not None:  # the servers stop with the run that started them
            await mcp.close()


def _workspace_held(
    options: RunOptions, cwd: Path, session_id: str, editing: bool
) -> contextlib.AbstractContextManager[None]:
    """A top-level run sweeps what dead runs left in its workspace and holds it while `editing`
    (`workspace_for_run`). A subagent's run does neither: its workspace is its root's, held and
    swept by it (so a sweep could only wait on that hold and give up), or a tree made for it."""
    if options.parent is not None:
        return contextlib.nullcontext()
    return workspace_for_run(cwd, session_id, editing=editing)


def _sandbox_programs(parts: RuntimeParts, spec: AgentSpec) -> list[Path]:
    """The runtime's own programs the agent's tools run in the sandbox, through the tools' seam."""
    return parts.sandbox_programs(list(spec.tools)) if parts.sandbox_programs is not None else []


def _may_change(spec: AgentSpec, mode: str, config: Any) -> bool:
    """Whether a top-level run of `spec` may change the workspace (its tools, or its subagents'),
    so it holds the workspace for its length (agent.sessions.leftovers.workspace_for_run)."""
    return mode != "plan" and (may_edit(spec) or may_delegate(spec, 0, config.defaults.max_depth))


def _local_fetch_rule(rules: list[Any]) -> Callable[[str], bool]:
    """Whether the agent's rules allow web fetch to reach a host on a loopback or private address."""
    from agent.permissions.rules import decide

    return lambda host: decide(rules, "webfetch_local", host) == "allow"


async def _hooks_for(
    registry: Any, parts: RuntimeParts, sandbox: Sandbox | None, policy: FsPolicy, cwd: Path,
    session_id: str, mode: str, parent_tool_use_id: str | None,
) -> HookRunner | None:  # fmt: skip
    """The run's hooks (None when no trusted file declares any), in the run's sandbox, or in one
    made for them (without network) when the agent has none; when none can be made, each hook
    fails with the reason."""
    hooks = getattr(registry, "hooks", None)
    if not hooks:
        return None
    why = "no sandbox could be made to run it in"
    if sandbox is None:
        try:
            sandbox = await asyncio.to_thread(
                parts.make_sandbox, registry.config.defaults.sandbox, policy, False
            )
        except SandboxUnavailableError as exc:
            why = f"no sandbox to run it in: {exc}"
    return HookRunner(
        list(hooks), cwd, session_id, sandbox, no_sandbox=why, permission_mode=mode,
        parent_tool_use_id=parent_tool_use_id,
    )  # fmt: skip


def _sandbox_for(parts: RuntimeParts, spec: AgentSpec, config: Any, policy: FsPolicy) -> Sandbox | None:
    """The sandbox for bash (and the ripgrep under grep and glob), or None: an agent without them
    needs none, and a missing bubblewrap must not stop the other tools; bash then refuses each call
    with the probe's reason and fix, and ripgrep runs on the host within the policy."""
    if not {"bash", "grep", "glob"} & set(spec.tools):
        return None
    try:
        return parts.make_sandbox(config, policy, spec.network)
    except SandboxUnavailableError:
        return None
