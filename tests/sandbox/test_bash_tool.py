"""The bash tool over the real runners: status lines, caps, the carried working directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.errors import BashUnavailableError
from agent.sandbox.base import ExecResult
from agent.sandbox.unsandboxed import UnsandboxedRunner
from agent.tool import OutputLimits, ToolContext
from tests.sandbox.conftest import sandbox_for
from tools.bash import BashInput, BashTool


@pytest.fixture(params=["none", pytest.param("bwrap", marks=pytest.mark.bwrap)])
def ctx(request: pytest.FixtureRequest, workspace: Path, tmp_path: Path) -> ToolContext:
    sandbox = UnsandboxedRunner() if request.param == "none" else sandbox_for(workspace)
    return ToolContext(workspace=workspace, data_dir=tmp_path / "data", sandbox=sandbox)


async def bash(ctx: ToolContext, command: str, **extra: object) -> str:
    result = await BashTool().run(BashInput(command=command, **extra), ctx)
    return result.output


async def test_exit_code_and_output(ctx: ToolContext) -> None:
    result = await BashTool().run(BashInput(command="echo hi; exit 3"), ctx)
    assert result.output == "hi\n[exit code: 3]" and result.is_error
    assert await bash(ctx, "true") == "(no output)\n[exit code: 0]"


async def test_timeout_is_reported(ctx: ToolContext) -> None:
    out = await bash(ctx, "echo begun; sleep 30", timeout_ms=500)
    assert out.startswith("begun\n")
    assert out.endswith("[timed out after 0.5 s; the command and everything it started were killed]")


async def test_working_directory_carries_between_calls(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "a" / "b").mkdir(parents=True)
    await bash(ctx, "cd a/b")
    assert (await bash(ctx, "pwd")).startswith(f"{(workspace / 'a' / 'b').resolve()}\n")
    out = await bash(ctx, "cd /usr")
    assert f"working directory reset to {workspace}" in out
    assert (await bash(ctx, "pwd")).startswith(f"{workspace.resolve()}\n")


async def test_vanished_directory_falls_back_to_workspace(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "gone").mkdir()
    await bash(ctx, "cd gone")
    (workspace / "gone").rmdir()
    out = await bash(ctx, "pwd")
    assert "gone no longer exists" in out and f"{workspace.resolve()}\n" in out


async def test_output_is_capped_head_and_tail_with_full_copy(ctx: ToolContext) -> None:
    ctx.limits = OutputLimits(max_lines=100, max_chars=10_000)
    result = await BashTool().run(BashInput(command="seq 1 5000"), ctx)
    assert result.output.startswith("1\n2\n") and "4999\n5000\n[exit code: 0]" in result.output
    assert "omitted" in result.output and result.full_output_path is not None
    assert Path(result.full_output_path).read_text().splitlines()[2499] == "2500"


async def test_cancel_from_the_context(ctx: ToolContext) -> None:
    asyncio.get_running_loop().call_later(0.3, ctx.cancel.set)
    out = await bash(ctx, "sleep 30")
    assert out.endswith("[cancelled; the command and everything it started were killed]")


async def test_without_sandbox_bash_refuses(workspace: Path, tmp_path: Path) -> None:
    ctx = ToolContext(workspace=workspace, data_dir=tmp_path)
    with pytest.raises(BashUnavailableError, match="bash is unavailable"):
        await BashTool().run(BashInput(command="true"), ctx)


def test_metadata(workspace: Path, tmp_path: Path) -> None:
    tool, ctx = BashTool(), ToolContext(workspace=workspace, data_dir=tmp_path)
    call = BashInput(command="git status && rm -rf build\necho done", timeout_ms=1000)
    assert tool.title(call) == "bash: git status && rm -rf build"
    assert tool.permission_requests(call, ctx)[0].patterns == [call.command]
    assert tool.conflict_key(call, ctx) == "bash" and tool.mutates and tool.kind == "execute"
    schema = BashTool.schema()
    assert schema["name"] == "bash" and set(schema["input_schema"]["properties"]) == {
        "command",
        "timeout_ms",
        "description",
    }
    assert schema["input_schema"]["required"] == ["command"]


class _RecordingSandbox:
    """Records what bash asked for, to check the timeout arithmetic without waiting for it."""

    name = "none"

    def __init__(self) -> None:
        self.timeouts: list[float] = []

    async def run(self, command: str, *, cwd: Path, timeout_s: float, cancel: object = None) -> ExecResult:
        self.timeouts.append(timeout_s)
        return ExecResult("", 0, False, False, None, 1.0)


async def test_timeouts_default_and_clamp(workspace: Path, tmp_path: Path) -> None:
    sandbox = _RecordingSandbox()
    ctx = ToolContext(workspace=workspace, data_dir=tmp_path, sandbox=sandbox, bash_timeout_s=90)
    for timeout_ms in (None, 2500, 10_000_000):
        await BashTool().run(BashInput(command="true", timeout_ms=timeout_ms), ctx)
    assert sandbox.timeouts == [90, 2.5, 600]
