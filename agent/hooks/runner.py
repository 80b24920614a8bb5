"""Run the hooks of one event: matching, in the sandbox, with a timeout; every run is an event.

A hook is a bash command from a trusted config file. It runs like a bash call (`Sandbox.run`:
the run's filesystem policy, no network unless the agent has it, the process limits), in the
workspace, with `CLAUDE_PROJECT_DIR` set, its input JSON on stdin. The sandbox merges stdout and
stderr, so the command runs in a subshell (its `exit` ends only that) with stderr sent to a file
in the sandbox's private /tmp, printed after a marker line once the command ended.

The hooks of one event run side by side, as Claude Code runs them, each in its own sandbox with
its own timeout; the same command named twice (in two files, say) runs once. Their answers are
combined, and their events emitted, in the order their files and blocks declare them, whichever
finished first, so the outcome does not depend on timing. A hook that cannot run (no sandbox)
fails like any other: the run goes on, and the failure is an event every front end shows.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.events import HookEvent
from agent.hooks.config import Hook
from agent.hooks.protocol import HookAnswer, combine, interpret

Emit = Callable[[Any], None]

PEER_TOOL_NAMES = {
    "read": "Read",
    "edit": "Edit",
    "write": "Write",
    "grep": "Grep",
    "glob": "Glob",
    "bash": "Bash",
    "patch": "Patch",
    "task": "Task",
    "webfetch": "WebFetch",
}
"""Our tools by Claude Code's names: what a hook is told, and what its matcher may name."""


def matches(matcher: str, value: str) -> bool:
    """Whether a hook's matcher (a regex over the whole name; "" and "*" match all) takes `value`.

    For a tool, `value` is our name; a matcher may name it either way (`Bash` or `bash`).
    """
    if matcher in ("", "*"):
        return True
    names = {value, PEER_TOOL_NAMES.get(value, value)}
    try:
        pattern = re.compile(matcher)
    except re.error:
        return matcher in names
    return any(pattern.fullmatch(name) for name in names)


def _script(command: str, payload: str, project: Path, marker: str) -> str:
    delimiter = f"SUBAGENT_HOOK_INPUT_{secrets.token_hex(8)}"
    return (
        f"export CLAUDE_PROJECT_DIR={shlex.quote(str(project))}\n"
        f"(\n{command}\n) 2>/tmp/.hook-stderr <<'{delimiter}'\n{payload}\n{delimiter}\n"
        f"status=$?\nprintf '\\n%s\\n' {marker}\ncat /tmp/.hook-stderr 2>/dev/null\nexit $status\n"
    )


@dataclass(eq=False, repr=False)
class HookRunner:
    """The hooks of one session and what every hook is told of it."""

    hooks: list[Hook]
    workspace: Path
    session_id: str
    sandbox: Any = None
    """`agent.sandbox.base.Sandbox`, or None: then every hook fails with `no_sandbox`."""
    no_sandbox: str = "no sandbox could be made to run it in"
    permission_mode: str = "default"
    transcript_path: str = ""
    parent_tool_use_id: str | None = None

    def wanted(self, event: str, value: str = "") -> list[Hook]:
        """The hooks of `event` whose matcher takes `value` (a tool's name, a start's source)."""
        return [h for h in self.hooks if h.event == event and matches(h.matcher, value)]

    async def fire(self, event: str, fields: dict[str, Any], emit: Emit, *, match: str = "") -> HookAnswer:
        """Run every hook of `event` matching `match`; their combined answer (empty when none)."""
        hooks = self.wanted(event, match)
        if not hooks:
            return HookAnswer()
        payload = json.dumps(
            {
                "session_id": self.session_id,
                "transcript_path": self.transcript_path,
                "cwd": str(self.workspace),
                "permission_mode": self.permission_mode,
                "hook_event_name": event,
                **fields,
            }
        )
        runs = [asyncio.ensure_future(self._one(hook, payload)) for hook in _distinct(hooks)]
        try:
            ran = await asyncio.gather(*runs)
        finally:  # one that raised, or a cancel, leaves none of the others running
            for run in runs:
                run.cancel()
        for _, shown in ran:
            emit(shown)
        return combine([answer for answer, _ in ran])

    async def _one(self, hook: Hook, payload: str) -> tuple[HookAnswer, HookEvent]:
        if self.sandbox is None:
            answer, code = HookAnswer(failed=True, message=self.no_sandbox), None
        else:
            marker = f"SUBAGENT_HOOK_STDERR_{secrets.token_hex(8)}"
            result = await self.sandbox.run(
                _script(hook.command, payload, self.workspace, marker),
                cwd=self.workspace,
                timeout_s=hook.timeout_s,
            )
            stdout, _, stderr = result.output.rpartition(f"\n{marker}\n")
            if not _:
                stdout, stderr = "", result.output
            code = result.exit_code
            answer = interpret(hook.event, code, stdout, stderr, timed_out=result.timed_out)
        event = HookEvent(
            session_id=self.session_id,
            parent_tool_use_id=self.parent_tool_use_id,
            hook_event=hook.event,
            command=hook.command,
            source=hook.source,
            exit_code=code,
            decision=answer.decision,
            message=answer.reason or answer.message,
            failed=answer.failed,
        )
        return answer, event


def _distinct(hooks: list[Hook]) -> list[Hook]:
    """`hooks` without a command already named (the first keeps its place), as Claude Code
    runs an identical command once."""
    first: dict[str, Hook] = {}
    for hook in hooks:
        first.setdefault(hook.command, hook)
    return list(first.values())
