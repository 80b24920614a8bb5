"""`subagent run PROMPT`: one agent, one task, headless or with a live view.

Exit codes: 0 success, 1 error during execution, 2 usage or configuration error, 3 a permission
was denied and the task could not finish, 4 a turn or budget limit, 130 cancelled. In the JSON
modes stdout carries nothing but events (logs and errors go to stderr).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agent import DEFAULT_AGENT
from agent.cli._options import (
    PERMISSION_MODE_HELP,
    TRUST_HELP,
    api_key_error,
    own_mount_namespace,
    permission_mode_error,
)
from agent.cli._signals import cancel_on_signals
from agent.cli.params import argument, option
from agent.errors import ConfigError, SubagentError
from agent.terminal.safe_text import for_terminal

if TYPE_CHECKING:
    from agent.prompt.custom_commands import CommandRun

EXIT_CODES = {
    "success": 0,
    "error_during_execution": 1,
    "error_permission_denied": 3,
    "error_max_turns": 4,
    "error_max_budget": 4,
    "cancelled": 130,
}
RESULT_FIELDS = (
    "type",
    "subtype",
    "is_error",
    "session_id",
    "result",
    "num_turns",
    "usage",
    "total_cost_usd",
    "permission_denials",
)
OutputMode = Literal["text", "json", "stream-json"]


def result_object(event: Any) -> dict[str, Any]:
    """The result line of `--output json|stream-json`: exactly the documented fields."""
    data = event.model_dump(mode="json")
    return {key: data[key] for key in RESULT_FIELDS}


def _read_prompt(prompt: str | None) -> str | None:
    if prompt == "-" or (prompt is None and not sys.stdin.isatty()):
        prompt = sys.stdin.read()
    return prompt.strip() or None if prompt is not None else None  # a blank prompt is no prompt


def _fail(message: str, code: int = 2) -> SystemExit:
    print(for_terminal(message), file=sys.stderr)
    return SystemExit(code)


def run_command(
    prompt: str | None = argument(None, help="The task; `-` or omitted reads it from stdin."),
    agent: str | None = option(
        None, "--agent", "-a", help=f"The agent to run (default: a custom command's, else {DEFAULT_AGENT})."
    ),
    cwd: Path = option(Path("."), "--cwd", help="The workspace.", file_okay=False),
    model: str | None = option(None, "--model", "-m", help="Model id or alias (sonnet, opus, haiku)."),
    max_turns: int | None = option(None, "--max-turns", min=1, help="Stop after this many model turns."),
    permission_mode: str | None = option(None, "--permission-mode", help=PERMISSION_MODE_HELP),
    output: str = option("text", "--output", "-o", help="text | json | stream-json"),
    resume: str | None = option(None, "--resume", "-r", help="Resume this session id."),
    continue_latest: bool = option(False, "--continue", "-c", help="Continue the latest session here."),
    fork: bool = option(False, "--fork", help="With --resume/--continue: branch into a new session."),
    script: Path | None = option(None, "--script", help="Replies of the scripted model (demo, tests)."),
    trust: bool = option(False, "--trust", help=TRUST_HELP),
    command: str | None = option(
        None,
        "--command",
        help="Run this custom command (.claude/commands/NAME.md, ...); the prompt is its arguments.",
    ),
) -> None:
    """Run one agent on one task."""
    own_mount_namespace()  # first: only a single-threaded process can
    if output not in ("text", "json", "stream-json"):
        raise _fail(f"error: --output must be text, json or stream-json, not {output!r}")
    if problem := permission_mode_error(permission_mode):
        raise _fail(f"error: {problem}")
    if fork and not (resume or continue_latest):
        raise _fail("error: --fork branches an existing session; add --resume ID or --continue")
    if not cwd.is_dir():
        raise _fail(f"error: --cwd {cwd} is not a directory")
    text = _read_prompt(prompt)
    run = _custom_command(command, text, cwd) if command is not None or (text or "").startswith("/") else None
    if run is not None:  # what the command's file sets; --agent and --model win
        text, agent, model = run.prompt, agent or run.agent, model or run.model
    if text is None and not (resume or continue_latest):
        raise _fail("error: no prompt; pass it as an argument or on stdin (subagent run 'fix the tests')")
    if problem := api_key_error(script):
        raise _fail(f"error: {problem}")
    options = dict(
        agent=agent or DEFAULT_AGENT,
        cwd=cwd,
        model=model,
        max_turns=max_turns,
        permission_mode=permission_mode,
        resume=resume,
        continue_latest=continue_latest,
        fork=fork,
        trust=trust,
        grant=run.grant if run is not None else None,
    )
    code = asyncio.run(_run(text, options, output, script))  # type: ignore[arg-type]
    raise SystemExit(code)


def _custom_command(name: str | None, text: str | None, cwd: Path) -> CommandRun | None:
    """The run `--command NAME` or a prompt starting with `/NAME` stands for; None for a prompt
    starting with `/` that names no command (it is sent as written)."""
    from agent.prompt.custom_commands import command_in_prompt, find_commands, invoke
    from agent.registry.discovery import find_workspace

    workspace = find_workspace(cwd)
    if name is None:
        return command_in_prompt(text or "", workspace)
    commands, _ = find_commands(workspace)
    found = commands.get(name.removeprefix("/"))
    if found is None:
        known = ", ".join(f"/{n}" for n in commands) or "none"
        raise _fail(f"error: no custom command {name!r} in {workspace}; commands: {known}")
    return invoke(found, text or "", workspace)


async def _run(prompt: str | None, options: dict[str, Any], output: OutputMode, script: Path | None) -> int:
    renderer = _text_renderer() if output == "text" else None
    with cancel_on_signals() as cancel:
        return await _stream(prompt, options, output, script, renderer, cancel)


async def _stream(
    prompt: str | None,
    options: dict[str, Any],
    output: OutputMode,
    script: Path | None,
    renderer: Any,
    cancel: asyncio.Event,
) -> int:
    from agent.api import run_events
    from agent.runtime.options import RunOptions

    try:
        client = None
        if script is not None:
            from agent.model.scripted import ScriptedModel

            client = ScriptedModel.from_file(script)
        approver = _terminal_approver(renderer) if renderer is not None else None
        run = RunOptions.build(
            prompt=prompt, model_client=client, cancel=cancel, approver=approver, **options
        )
        async for event in run_events(run):
            _emit(event, output, renderer)
            if event.type == "result" and event.parent_tool_use_id is None:
                return EXIT_CODES[event.subtype]
    except ConfigError as exc:
        print(f"error: {for_terminal(str(exc))}", file=sys.stderr)
        return 2
    except SubagentError as exc:
        print(f"error: {for_terminal(str(exc))}", file=sys.stderr)
        return 1
    print("error: the run ended without a result", file=sys.stderr)
    return 1


def _emit(event: Any, output: OutputMode, renderer: Any) -> None:
    is_result = event.type == "result" and event.parent_tool_use_id is None
    if event.type == "result" and not is_result and output != "text":
        return  # a subagent's end is its subagent_finished event; one `result` line, the last
    if output == "stream-json":
        line = json.dumps(result_object(event)) if is_result else event.model_dump_json()
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    elif output == "json":
        if is_result:
            sys.stdout.write(json.dumps(result_object(event)) + "\n")
    else:
        renderer.handle(event)
        if is_result:
            renderer.summary(event)


def _text_renderer() -> Any:
    from agent.terminal.render import EventRenderer

    return EventRenderer()  # its console (and rich) at the first line it prints


def _terminal_approver(renderer: Any) -> Any:
    """The person at the terminal answers asks; without a terminal, the headless policy does."""
    if not sys.stdin.isatty():
        return None
    from agent.terminal.approver import TerminalApprover

    return TerminalApprover(lambda: renderer.console)  # the renderer's, made at the first print
