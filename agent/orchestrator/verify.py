"""Verification: a command (the project's tests) that must pass before a child's work counts.

It runs in the sandbox, in the child's own worktree, when the child reports done. A failure is
sent back to the child with the output (see `agent.orchestrator.child`), up to
`defaults.verify_rounds` times; the result records the last run.
"""

import asyncio
from pathlib import Path

from pydantic import BaseModel

from agent.errors import SubagentError
from agent.sandbox.base import Sandbox
from agent.terminal.safe_text import strip_escape_sequences
from agent.tool import OutputLimits
from agent.tool_output import cap_output

VERIFY_TIMEOUT_S = 600.0
_LIMITS = OutputLimits(max_lines=200, max_chars=12_000)


class VerifyRun(BaseModel):
    """One run of the verify command."""

    passed: bool
    exit_code: int | None
    output: str
    """Capped: what the child and the parent read."""


async def run_verify(
    command: str,
    sandbox: Sandbox | None,
    cwd: Path,
    cancel: asyncio.Event | None = None,
    timeout_s: float = VERIFY_TIMEOUT_S,
) -> VerifyRun:
    """Run `command` in `sandbox` in `cwd`; a sandbox that cannot run is a failed verification."""
    if sandbox is None:
        return VerifyRun(passed=False, exit_code=None, output="no sandbox to run the verify command in")
    try:
        result = await sandbox.run(command, cwd=cwd, timeout_s=timeout_s, cancel=cancel)
    except SubagentError as exc:
        return VerifyRun(passed=False, exit_code=None, output=f"verify could not run: {exc}")
    output = strip_escape_sequences(result.output)  # as the bash tool does: the model reads plain text
    if result.timed_out:
        output += f"\n(verify timed out after {timeout_s:g} s)"
    text = cap_output(output, _LIMITS, None, keep="head_tail", label="verify output").text
    return VerifyRun(passed=result.exit_code == 0, exit_code=result.exit_code, output=text)


def feedback_prompt(command: str, run: VerifyRun, round_number: int, rounds: int) -> str:
    """What the child reads when its work failed verification."""
    code = "was killed" if run.exit_code is None else f"exited with {run.exit_code}"
    return (
        f"Verification failed (round {round_number} of {rounds}): `{command}` {code}.\n"
        f"Output:\n{run.output}\n\n"
        "Fix the cause, run the command yourself until it passes, then report again."
    )
