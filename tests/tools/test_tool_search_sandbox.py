"""grep and glob through the sandbox agree with the host, and both stay inside the policy."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from agent.errors import ToolFailure
from agent.sandbox.base import ExecResult
from agent.sandbox.bwrap import BwrapSandbox
from agent.sandbox.policy import build_policy
from agent.tool import ToolContext
from tools._ripgrep import policy_exclusions
from tools.glob import GlobInput, GlobTool
from tools.grep import GrepInput, GrepTool

FILES = {
    "src/app.py": "import os\ndef main():\n    return os.getcwd()\n",
    "src/util.py": "def helper():\n    return 'Main'\n",
    "notes.txt": "nothing here\nMAIN in caps\n",
    "build/out.py": "main = 'ignored'\n",
    ".gitignore": "build/\n",
    "secret-data/[odd] name*/leak.txt": "main secret\n",
}

GREPS = [
    {"pattern": "main"},
    {"pattern": "main", "output_mode": "content", "-i": True},
    {"pattern": "main", "output_mode": "count", "glob": "*.py"},
    {"pattern": "main", "glob": "src/**"},
    {"pattern": "getcwd", "output_mode": "content", "-B": 1, "path": "src"},
    {"pattern": "main\\(\\):\n    return", "multiline": True},
    {"pattern": "zzz-no-such-thing"},
]


@pytest.fixture
def tree(ws: Path) -> Path:
    for name, text in FILES.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text(text)
    os.mkfifo(ws / "src" / "pipe")  # rg must skip it, in and out of the sandbox
    return ws


def _ctx(ws: Path, tmp_path: Path, sandboxed: bool) -> ToolContext:
    """The workspace's runtime data (as the policy calls it) lives inside it, and is hidden."""
    policy = build_policy(workspace=ws, data_dir=ws / "secret-data", outputs=tmp_path / "out")
    return ToolContext(
        workspace=ws,
        data_dir=tmp_path / "out",
        policy=policy,
        sandbox=BwrapSandbox(policy) if sandboxed else None,
    )


@pytest.mark.bwrap
@pytest.mark.parametrize("raw", GREPS)
async def test_grep_in_the_sandbox_is_grep_on_the_host(
    tree: Path, tmp_path: Path, raw: dict[str, object]
) -> None:
    inp = GrepInput.model_validate(raw)
    host = (await GrepTool().run(inp, _ctx(tree, tmp_path, False))).output
    boxed = (await GrepTool().run(inp, _ctx(tree, tmp_path, True))).output
    assert sorted(boxed.splitlines()) == sorted(host.splitlines())  # rg's order varies in content mode
    assert "secret" not in host and "ignored" not in host


@pytest.mark.bwrap
@pytest.mark.parametrize("pattern", ["*.py", "**/*", "src/*.py", "*/**/*.txt"])
async def test_glob_in_the_sandbox_is_glob_on_the_host(tree: Path, tmp_path: Path, pattern: str) -> None:
    host = (await GlobTool().run(GlobInput(pattern=pattern), _ctx(tree, tmp_path, False))).output
    boxed = (await GlobTool().run(GlobInput(pattern=pattern), _ctx(tree, tmp_path, True))).output
    assert sorted(boxed.splitlines()) == sorted(host.splitlines())
    assert "secret-data" not in host


@pytest.mark.bwrap
async def test_a_bad_regex_is_the_same_error_in_the_sandbox(tree: Path, tmp_path: Path) -> None:
    for sandboxed in (False, True):
        with pytest.raises(ToolFailure, match=r"(?s)invalid regex 'ma\(in': .*unclosed group"):
            await GrepTool().run(GrepInput(pattern="ma(in"), _ctx(tree, tmp_path, sandboxed))


def test_exclusions_name_every_unreadable_path_below_the_root(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    policy = build_policy(workspace=ws, home=tmp_path, data_dir=ws / "d[a]ta*")
    assert policy_exclusions(policy, ws, ws) == ["--glob", "!/d\\[a\\]ta\\*"]
    above = policy_exclusions(policy, Path("/"), Path("/"))
    assert {"!/tmp", "!/proc", "!/dev", "!/run", "!" + str(tmp_path)} <= set(above[1::2])
    assert policy_exclusions(policy, ws / "src", ws) == []


class ScriptedSandbox:
    """Answers run_argv with a fixed ExecResult, as a sandbox with merged output would."""

    name = "bwrap"

    def __init__(self, output: str, code: int) -> None:
        self.result = ExecResult(
            output=output, exit_code=code, timed_out=False, cancelled=False, cwd_after=None, duration_ms=1.0
        )

    async def run(
        self, command: str, *, cwd: Path, timeout_s: float, cancel: asyncio.Event | None = None
    ) -> ExecResult:
        raise AssertionError("grep must not go through a shell command")

    async def run_argv(
        self, argv: list[str], *, cwd: Path, timeout_s: float, cancel: asyncio.Event | None = None
    ) -> ExecResult:
        return self.result


async def test_merged_output_a_dropped_middle_and_unreadable_files(ws: Path, tmp_path: Path) -> None:
    ctx = ToolContext(workspace=ws, data_dir=tmp_path / "out")
    ctx.sandbox = ScriptedSandbox("./a.py\n./b.p\n[... 123 bytes dropped ...]\ny\n./z.py\n", 0)
    out = (await GrepTool().run(GrepInput(pattern="x"), ctx)).output
    assert out.splitlines() == [
        "a.py",
        "z.py",
        "[the middle of a very large output was dropped; narrow the search]",
    ]
    ctx.sandbox = ScriptedSandbox("", 2)  # only unreadable files, silenced: no error, no matches
    assert (await GrepTool().run(GrepInput(pattern="x"), ctx)).output.startswith("No matches")
    ctx.sandbox = ScriptedSandbox("./a.py\n", 2)  # matches, and some file could not be read
    assert (await GrepTool().run(GrepInput(pattern="x"), ctx)).output == "a.py"
