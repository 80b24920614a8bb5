"""One headless process: one subagent session, one run per user message, Claude Code's output.

With `--input-format text` the prompt is the argument (or stdin) and there is one run. With
`--input-format stream-json` stdin carries the SDK's messages for as long as it stays open: each
`user` message is a run that resumes the session; control requests are answered between and
during runs (`interrupt` cancels the run in progress; `set_permission_mode` reaches its gate;
`set_model` applies from the next message). The process owns the session, so it owns its one
`AlwaysMemory`: an `always` answer holds for every later run of this process, and no other; and
its MCP servers, started by the first run and stopped when the process ends. A message starting
with `/name` runs that custom command (docs/commands.md), with its model, agent and allowed tools
for that message's run only, as Claude Code's `-p "/review"` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from typing import TYPE_CHECKING, Any

from agent import DEFAULT_AGENT
from agent.errors import ConfigError, SubagentError
from agent.headless.control import Channel, StdioApprover, read_stdin
from agent.headless.flags import MODES, HeadlessOptions, claude_mode_of
from agent.headless.overrides import RunHandles, headless_parts
from agent.headless.shapes import ClaudeShapes
from agent.permissions.always import AlwaysMemory
from agent.terminal.safe_text import for_terminal

if TYPE_CHECKING:
    from agent.prompt.custom_commands import CommandRun

EXIT_CODES = {"error_max_turns": 4, "error_max_budget": 4, "cancelled": 130}
"""As `subagent run`'s for a result that is an error; any other error is 1 (a run the model
finished after a denial is a success, as in Claude Code)."""

DONT_ASK_DENIAL = (
    "denied: --permission-mode dontAsk refuses every call no rule allows; add it to --allowedTools "
    "or run with --permission-mode acceptEdits or bypassPermissions"
)


class HeadlessSession:
    """The state one process keeps across its runs: the session, mode, model, `always` answers,
    the run's cancel."""

    def __init__(self, opts: HeadlessOptions, channel: Channel) -> None:
        self.opts = opts
        self.channel = channel
        self.shapes = ClaudeShapes(partial=opts.include_partial)
        self.session_id: str | None = None
        self.mode = opts.permission_mode
        self.model = opts.model
        self.cancel: asyncio.Event | None = None
        self.handles = RunHandles()
        self.always = AlwaysMemory()
        self.last: dict[str, Any] | None = None
        from agent.mcpclient.for_run import KeptHub  # the runtime's, loaded with the first run anyway

        self.mcp = KeptHub()
        """The process's MCP servers: started by its first run, reused by the next, stopped at its end."""

    def _approver(self) -> Any:
        if self.opts.prompt_tool_stdio:
            return StdioApprover(self.channel, self.interrupt, self.set_mode, self.opts.cwd)
        if self.opts.dont_ask:
            from agent.permissions.headless import PolicyApprover

            return PolicyApprover("deny", DONT_ASK_DENIAL)
        return None

    def interrupt(self) -> None:
        if self.cancel is not None:
            self.cancel.set()

    def set_mode(self, claude_mode: str) -> None:
        """Claude Code's mode, now: the gate of the run in progress, and every later run."""
        if claude_mode not in MODES:
            raise ConfigError(f"unknown permission mode {claude_mode!r}; modes: {', '.join(MODES)}")
        self.mode = MODES[claude_mode]
        self.opts = self.opts.model_copy(update={"dont_ask": claude_mode == "dontAsk"})
        if self.handles.gate is not None:
            self.handles.gate.mode = self.mode

    def _starting_mode(self) -> str:
        """The mode the run's gate starts in (the flag's, or the config's: `--settings`'
        `defaultMode`, the workspace's or the user's), in Claude Code's spelling."""
        mode = getattr(self.handles.gate, "mode", None) or self.mode or "default"
        return claude_mode_of(mode, dont_ask=self.opts.dont_ask)

    async def turn(self, prompt: str) -> dict[str, Any]:
        """One user message: runs until a result; with --json-schema, until the answer fits."""
        check = None
        if self.opts.json_schema:  # imported only then: its pattern and dataclass cost 0.3 % of the start
            from agent.headless.schema import SchemaCheck

            check = SchemaCheck(self.opts.json_schema)
        command = self._command(prompt)
        prompt = command.prompt if command is not None else prompt
        text = check.instruct(prompt) if check else prompt
        result = await self._run(text, command)
        while check is not None and result["subagent"]["subtype"] == "success":
            verdict = check.verdict(result["result"])
            if verdict.ok:
                result["structured_output"] = verdict.value
                break
            if check.exhausted():
                result.update(
                    subtype="error_max_structured_output_retries", is_error=True, errors=[verdict.why]
                )
                break
            result = await self._run(check.correction(verdict.why), command)
        self.last = result
        if self.opts.output_format != "text":
            self.channel.send(result)
        return result

    def _command(self, prompt: str) -> CommandRun | None:
        """The custom command a message starting with `/` names, if it names one."""
        if not prompt.startswith("/"):
            return None
        from agent.prompt.custom_commands import command_in_prompt
        from agent.registry.discovery import find_workspace

        return command_in_prompt(prompt, find_workspace(self.opts.cwd))

    async def _run(self, prompt: str, command: CommandRun | None = None) -> dict[str, Any]:
        from agent.api import run_events
        from agent.runtime.options import RunOptions
        from agent.runtime.parts import default_parts

        self.cancel = asyncio.Event()
        agent = self.opts.agent or (command and command.agent) or DEFAULT_AGENT
        first = self.session_id is None
        self.handles = RunHandles()
        parts = headless_parts(default_parts(), self.opts, agent, self.handles)
        options = RunOptions.build(
            prompt=prompt,
            agent=agent,
            cwd=self.opts.cwd,
            model=self.model or (command and command.model),
            fallback_model=self.opts.fallback_model,
            max_turns=self.opts.max_turns,
            permission_mode=self.mode,
            approver=self._approver(),
            max_budget_usd=self.opts.max_budget_usd,
            resume=self.session_id or (self.opts.resume if first else None),
            continue_latest=self.opts.continue_latest and first,
            fork=self.opts.fork and first,
            session_id=self.opts.session_id if first else None,
            cancel=self.cancel,
            parts=parts,
            always=self.always,
            mcp_servers=self.opts.mcp_servers,
            grant=command.grant if command is not None else None,
            mcp_kept=self.mcp,
        )
        # Closed when the result is taken, not when it is collected: the run lets go of the session
        # and the workspace before the next user message starts the next run.
        async with contextlib.aclosing(run_events(options)) as events:
            async for event in events:
                if event.type == "session_started" and event.parent_tool_use_id is None:
                    self.shapes.agents = self.handles.agents
                    self.shapes.permission_mode = self._starting_mode()
                    self.shapes.slash_commands, self.shapes.skills = await asyncio.to_thread(
                        _prompt_names, event.cwd
                    )
                for message in self.shapes.messages(event):
                    if message["type"] == "result":
                        self.session_id = event.session_id
                        return message
                    if self.opts.output_format == "stream-json":
                        self.channel.send(message)
        raise SubagentError("the run ended without a result")


def _prompt_names(cwd: str) -> tuple[list[str], list[str]]:
    """The custom commands and skills a run in `cwd` has, by name, for Claude Code's `init`."""
    from pathlib import Path

    from agent.prompt.custom_commands import find_commands
    from agent.registry.discovery import find_workspace
    from agent.skills.discovery import find_skills

    workspace = find_workspace(Path(cwd))
    return list(find_commands(workspace)[0]), [skill.name for skill in find_skills(workspace)[0]]


async def serve(opts: HeadlessOptions) -> int:
    """Run the headless process to its end; the exit code."""
    channel = Channel()
    if opts.settings is not None:
        import os

        os.environ.update(opts.settings.env)
        for line in opts.settings.unapplied:
            print(f"warning: {for_terminal(opts.settings.name)}: {for_terminal(line)}", file=sys.stderr)
    session = HeadlessSession(opts, channel)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, session.interrupt)
    try:
        if opts.input_format == "stream-json":
            await _conversation(session)
        else:
            await session.turn(_text_prompt(opts))
    except ConfigError as exc:
        return _fail(session, str(exc), 2)
    except SubagentError as exc:
        return _fail(session, str(exc), 1)
    finally:
        await session.mcp.close()
    if session.last is None:
        return 0
    if opts.output_format == "text":
        sys.stdout.write(session.last["result"] + "\n")
    return 0 if not session.last["is_error"] else EXIT_CODES.get(session.last["subagent"]["subtype"], 1)


def _fail(session: HeadlessSession, message: str, code: int) -> int:
    print(f"error: {for_terminal(message)}", file=sys.stderr)
    return code


def _text_prompt(opts: HeadlessOptions) -> str:
    prompt = opts.prompt
    if prompt is None or prompt == "-":
        prompt = sys.stdin.read() if not sys.stdin.isatty() else ""
    if not prompt.strip():
        raise ConfigError("no prompt; pass it as an argument or on stdin (subagent -p 'fix the tests')")
    return prompt


async def _conversation(session: HeadlessSession) -> None:
    """Read stdin until it closes; each user message waits for the run before it."""
    from agent.headless.inbox import Inbox

    inbox = Inbox(session)
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    read_stdin(queue)
    prompts = inbox.prompts
    reader = asyncio.create_task(inbox.pump(queue))
    try:
        while (prompt := await prompts.get()) is not None:
            await session.turn(prompt)
    finally:
        reader.cancel()
