"""The `bash` tool: one command per call, in the sandbox, with the working directory carried.

The sandbox does the isolating and the killing; this module turns the model's input into one
sandbox run, keeps `cd` working across calls (only inside the workspace roots, as a person at a
terminal in the project would expect), and caps what the model reads. The model reads the
output without its ANSI escape sequences (`ls --color`, pytest's colours, progress bars' cursor
codes): they carry nothing it can use and cost tokens. Nothing else is changed, and the full
output saved for a long result is the same stripped text, so offsets in it agree.
"""

from typing import ClassVar

from pydantic import Field

from agent.errors import BashUnavailableError
from agent.sandbox.base import ExecResult
from agent.terminal.safe_text import strip_escape_sequences
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from agent.tool_output import cap_output
from tools._paths import is_inside, printable, valid_text
from tools.schemas import SCHEMA_FILE


class BashInput(ToolInput):
    command: str = Field(description="The command to run with bash.")
    timeout_ms: int | None = Field(
        None,
        ge=1,
        description="Timeout in milliseconds (the configured default when omitted; longer "
        "than the configured maximum is cut to it).",
    )
    description: str | None = Field(None, description="What the command does, in 5-10 words.")


class BashTool(Tool[BashInput]):
    name: ClassVar[str] = "bash"
    description: ClassVar[str] = (
        "Run a shell command with bash in the workspace sandbox (no network unless configured; only "
        "the workspace is writable). The working directory carries over between calls; other shell "
        "state does not. stdout and stderr are merged; long output keeps its head and tail and the "
        "full text is saved to a file. Use the read/edit/grep/glob tools for files instead of cat, "
        "sed, grep or find."
    )
    input_model: ClassVar[type[ToolInput]] = BashInput
    kind = "execute"
    stored_schemas = SCHEMA_FILE
    mutates: ClassVar[bool] = True

    async def run(self, input: BashInput, ctx: ToolContext) -> ToolResult:
        """Run the command once; a timeout or cancel kills everything it started."""
        if ctx.sandbox is None:
            raise BashUnavailableError(_unavailable_reason())
        valid_text(input.command, "command")
        asked = input.timeout_ms / 1000 if input.timeout_ms else ctx.bash_timeout_s
        timeout_s = min(asked, ctx.bash_max_timeout_s)
        notes: list[str] = []
        cwd = ctx.bash_cwd or ctx.workspace
        if not cwd.is_dir():
            notes.append(f"[{printable(str(cwd))} no longer exists; ran in {ctx.workspace}]")
            cwd = ctx.workspace
        result = await ctx.sandbox.run(input.command, cwd=cwd, timeout_s=timeout_s, cancel=ctx.cancel)
        notes += self._carry_cwd(result, ctx)
        output = strip_escape_sequences(result.output)
        capped = cap_output(output, ctx.limits, ctx.data_dir, keep="head_tail", label="bash output")
        text = capped.text if capped.text else "(no output)"
        footer = "\n".join([*notes, _status(result, timeout_s)])
        return ToolResult(
            output=f"{text.rstrip(chr(10))}\n{footer}",
            is_error=result.exit_code != 0,
            full_output_path=str(capped.saved_path) if capped.saved_path else None,
        )

    @staticmethod
    def _carry_cwd(result: ExecResult, ctx: ToolContext) -> list[str]:
        after = result.cwd_after
        if after is None:
            return []
        if is_inside(after, ctx.roots) and after.is_dir():  # `pwd -P`: already resolved
            ctx.bash_cwd = after
            return []
        ctx.bash_cwd = ctx.workspace
        outside = printable(str(after))
        return [f"[working directory reset to {ctx.workspace}: {outside} is outside the workspace]"]

    def permission_requests(self, input: BashInput, ctx: ToolContext) -> list[PermissionRequest]:
        """The whole command; the permission gate splits it into simple commands.

        Raises:
            ToolInputError: a command no process can take (a NUL byte): refused before any ask.
        """
        return [PermissionRequest(permission="bash", patterns=[valid_text(input.command, "command")])]

    def preview(self, input: BashInput, ctx: ToolContext) -> str:
        return input.command

    def title(self, input: BashInput) -> str:
        first = input.command.strip().splitlines()[0] if input.command.strip() else ""
        return f"bash: {first}"

    def conflict_key(self, input: BashInput, ctx: ToolContext) -> str | None:
        return "bash"


def _status(result: ExecResult, timeout_s: float) -> str:
    if result.timed_out:
        return f"[timed out after {timeout_s:g} s; the command and everything it started were killed]"
    if result.cancelled:
        return "[cancelled; the command and everything it started were killed]"
    return f"[exit code: {result.exit_code}]"


def _unavailable_reason() -> str:
    from agent.sandbox.probe import probe_sandbox

    report = probe_sandbox()
    why = report.detail if not report.ok else "no sandbox was set up for this run"
    fix = report.fix or "run `subagent doctor`, or set `sandbox: {kind: none}` in agents.yaml"
    return f"bash is unavailable: {why}. To fix: {fix}"
