"""grep and glob agree with ripgrep run directly on the same tree."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from agent.errors import ToolFailure
from agent.tool import ToolContext
from tools._rg_binary import find_rg
from tools._ripgrep import BASE_ARGS
from tools.glob import GlobInput, GlobTool
from tools.grep import GrepInput, GrepTool


@pytest.fixture
def tree(ws: Path) -> Path:
    files = {
        "src/app.py": "import os\ndef main():\n    return os.getcwd()\n",
        "src/util.py": "def helper():\n    return 'Main'\n",
        "src/deep/x.js": "function main() {}\n",
        ".hidden/conf.py": "main = 1\n",
        "build/out.py": "main = 'ignored'\n",
        "notes.txt": "nothing here\nMAIN in caps\n",
        ".git/HEAD": "ref: main\n",
        ".gitignore": "build/\n",
    }
    for i, (name, text) in enumerate(files.items()):
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text(text)
        os.utime(ws / name, (1_000_000 + i * 100, 1_000_000 + i * 100))
    return ws


def _rg(cwd: Path, *args: str) -> list[str]:
    out = subprocess.run([find_rg(), *BASE_ARGS, *args], cwd=cwd, capture_output=True, text=True).stdout
    return sorted(ln.removeprefix("./") for ln in out.splitlines() if ln)


async def test_grep_files_matches_rg(tree: Path, ctx: ToolContext) -> None:
    out = (await GrepTool().run(GrepInput(pattern="main"), ctx)).output
    got = out.splitlines()
    assert got == _rg(tree, "--files-with-matches", "main", ".")
    assert ".hidden/conf.py" in got and not any("build/" in g or ".git/" in g for g in got)


async def test_grep_content_count_and_flags(tree: Path, ctx: ToolContext) -> None:
    inp = GrepInput.model_validate({"pattern": "main", "output_mode": "content", "-i": True, "path": "src"})
    got = sorted((await GrepTool().run(inp, ctx)).output.splitlines())
    assert got == _rg(tree, "--no-heading", "-n", "-H", "-i", "main", "src")
    assert "src/util.py:2:    return 'Main'" in got
    count = (await GrepTool().run(GrepInput(pattern="main", output_mode="count", glob="*.py"), ctx)).output
    assert count.splitlines()[:-1] == _rg(tree, "-c", "-H", "--glob", "*.py", "main", ".")
    assert count.splitlines()[-1] == "[2 matches in 2 files]"
    ctxed = GrepInput.model_validate({"pattern": "getcwd", "output_mode": "content", "-B": 1, "type": "py"})
    assert (await GrepTool().run(ctxed, ctx)).output.splitlines() == [
        "src/app.py-2-def main():",
        "src/app.py:3:    return os.getcwd()",
    ]


async def test_grep_caps_and_errors(tree: Path, ctx: ToolContext) -> None:
    out = (await GrepTool().run(GrepInput(pattern="main", head_limit=2), ctx)).output
    assert out.splitlines()[2].startswith("[1 more files not shown")
    with pytest.raises(ToolFailure, match=r"(?s)invalid regex 'ma\(in': .*unclosed group"):
        await GrepTool().run(GrepInput(pattern="ma(in"), ctx)
    assert "No matches" in (await GrepTool().run(GrepInput(pattern="zzzqqq"), ctx)).output
    multi = GrepInput(pattern="main\\(\\):\n    return", multiline=True, output_mode="files_with_matches")
    assert (await GrepTool().run(multi, ctx)).output == "src/app.py"


async def test_glob_matches_rg_newest_first(tree: Path, ctx: ToolContext) -> None:
    out = (await GlobTool().run(GlobInput(pattern="*.py"), ctx)).output.splitlines()
    assert sorted(out) == _rg(tree, "--files", "--glob", "*.py")
    assert out == [".hidden/conf.py", "src/util.py", "src/app.py"]
    by_path = GlobInput(pattern="{src,.hidden}/**/*.py")  # matched in Python, sorted by our own stat
    assert (await GlobTool().run(by_path, ctx)).output.splitlines() == out
    sub = (await GlobTool().run(GlobInput(pattern="**/*.js", path="src"), ctx)).output
    assert sub == "src/deep/x.js"
    assert "No files" in (await GlobTool().run(GlobInput(pattern="*.rs"), ctx)).output


async def test_grep_content_capped_with_full_output_saved(ws: Path, tmp_path: Path) -> None:
    from agent.tool import OutputLimits

    (ws / "many.txt").write_text("".join(f"hit {i}\n" for i in range(50)))
    ctx = ToolContext(workspace=ws, data_dir=tmp_path / "saved", limits=OutputLimits(max_lines=10))
    result = await GrepTool().run(GrepInput(pattern="hit", output_mode="content"), ctx)
    assert result.full_output_path is not None
    assert "showed 10 of 50 lines" in result.output
    assert Path(result.full_output_path).read_text().count("\n") == 49


async def test_glob_absolute_pattern(tree: Path, ctx: ToolContext) -> None:
    out = (await GlobTool().run(GlobInput(pattern=f"{tree}/src/**/*.js"), ctx)).output
    assert out == "src/deep/x.js"
    outside = GlobInput(pattern="/etc/**/*.conf")  # asks for the folder it will search, not "."
    reqs = GlobTool().permission_requests(outside, ctx)
    assert reqs[-1].permission == "external_directory" and reqs[-1].patterns == ["/etc"]


async def test_cancelling_the_task_kills_rg(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that stops (its task cancelled) leaves no rg behind, not just a set cancel event."""
    import asyncio

    from tools._ripgrep import run_rg

    bin_dir, pid_file = tmp_path / "bin", tmp_path / "rg.pid"
    bin_dir.mkdir()
    fake = bin_dir / "rg"
    fake.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr("tools._ripgrep.find_rg", lambda: str(fake))  # the real lookup is cached
    task = asyncio.ensure_future(run_rg(["x"], ws, asyncio.Event()))
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.02)
    pid = int(pid_file.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(pid, 0)


@pytest.fixture
def repo(ws: Path) -> Path:
    """A real git repo (objects, refs, hooks under .git/) with a gitignored folder and file type."""
    files = {
        ".gitignore": "ignored/\n*.log\n",
        "src/a/b.py": "needle\n",
        "top.txt": "needle\n",
        ".hidden": "needle\n",
        "ignored/x.txt": "needle\n",
        "run.log": "needle\n",
    }
    for name, text in files.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text(text)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(ws)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "needle in the message"], check=True)
    (ws / ".git" / "needle.txt").write_text("needle\n")  # a file under .git/ that would match
    return ws


VISIBLE = [".gitignore", ".hidden", "src/a/b.py", "top.txt"]


@pytest.mark.parametrize(
    "pattern",
    [
        "*",
        "**/*",
        "**",
        "ignored*",
        ".git*",
        "*.log",  # as an rg file type (name globs)
        "ignored/**",
        ".git/**",
        "{ignored,src}/**",
        "*/**",
        "**/*.{py,txt,log}/**",  # --glob, filtered
    ],
)
async def test_directory_matching_globs_never_leave_the_ignore_rules(
    repo: Path, ctx: ToolContext, pattern: str
) -> None:
    """rg's `--glob` beats ignore rules and walks into `.git/` when it matches a folder; ours must not."""
    from tools._globmatch import compile_glob

    expected = sorted(f for f in VISIBLE if compile_glob(pattern).matches(f))
    listed = (await GlobTool().run(GlobInput(pattern=pattern), ctx)).output.splitlines()
    assert sorted(listed) == expected or (not expected and listed[0].startswith("No files"))
    grep = (await GrepTool().run(GrepInput(pattern="needle", glob=pattern), ctx)).output.splitlines()
    with_needle = [f for f in expected if f != ".gitignore"]
    assert grep == with_needle or (not with_needle and grep[0].startswith("No matches"))
    content = GrepInput.model_validate(
        {"pattern": "needle", "glob": pattern, "output_mode": "content", "-C": 1}
    )
    lines = (await GrepTool().run(content, ctx)).output.splitlines()
    assert not any(ln.startswith((".git/", "ignored/", "run.log")) for ln in lines)
    count = GrepInput(pattern="needle", glob=pattern, output_mode="count")
    counted = (await GrepTool().run(count, ctx)).output.splitlines()
    assert not any(".git/" in ln or "ignored" in ln for ln in counted)


async def test_rg_itself_leaks_with_a_folder_matching_glob(repo: Path) -> None:
    """The cause, pinned: if rg stops leaking, the Python-side filtering could go."""
    leaked = _rg(repo, "--files", "--glob", "*")
    assert any(f.startswith(".git/") for f in leaked) and "ignored/x.txt" in leaked


async def test_grep_content_with_glob_keeps_rg_format(repo: Path, ctx: ToolContext) -> None:
    (repo / "src/a/b.py").write_text("before\nneedle: x-y\nafter\n")
    inp = GrepInput.model_validate({"pattern": "needle", "glob": "*.py", "output_mode": "content", "-C": 1})
    got = (await GrepTool().run(inp, ctx)).output.splitlines()
    assert got == ["src/a/b.py-1-before", "src/a/b.py:2:needle: x-y", "src/a/b.py-3-after"]
    assert sorted(got) == _rg(repo, "--no-heading", "-n", "-H", "-C", "1", "--glob", "*.py", "needle", ".")
    nested = GrepInput.model_validate(
        {"pattern": "needle", "glob": "src/**/*.py", "output_mode": "content", "-C": 1}
    )
    assert (await GrepTool().run(nested, ctx)).output.splitlines() == got
    two = GrepInput.model_validate({"pattern": "needle", "glob": "*/**", "output_mode": "content", "-A": 1})
    assert (await GrepTool().run(two, ctx)).output.splitlines() == [
        "src/a/b.py:2:needle: x-y",
        "src/a/b.py-3-after",
    ]
    plain = GrepInput.model_validate(
        {"pattern": "needle", "glob": "*.py", "output_mode": "content", "-n": False}
    )
    assert (await GrepTool().run(plain, ctx)).output == "src/a/b.py:needle: x-y"


@pytest.mark.parametrize(
    "pattern",
    [
        "*.py",
        "**/*.py",
        "src/**",
        "src/**/*.py",
        "src/*/*.py",
        "*.{py,txt}",
        "{src,x}/**",
        "[a-t]*",
        "[!t]*",
        "?op.txt",
        "b.py",
        "a/*",
        "**/a/**",
        "src/**.py",
        "!*.py",
    ],
)
async def test_glob_pattern_semantics_match_rg(repo: Path, ctx: ToolContext, pattern: str) -> None:
    """Where rg is right (no folder of the tree matches an ignored or .git path), we agree with it."""
    (repo / ".gitignore").unlink()
    (repo / "ignored").rename(repo / "kept")
    (repo / "run.log").unlink()
    expected = [f for f in _rg(repo, "--files", "--glob", pattern) if not f.startswith(".git/")]
    out = (await GlobTool().run(GlobInput(pattern=pattern), ctx)).output.splitlines()
    assert sorted(out) == expected or (not expected and out[0].startswith("No files"))


def test_bad_glob_is_a_clear_error() -> None:
    from tools._globmatch import compile_glob

    with pytest.raises(ToolFailure, match=r"invalid glob '\*\.\{py': unclosed '\{'"):
        compile_glob("*.{py")
