"""`subagent run`'s command line, parsed without typer (agent.cli.params) and by typer from the same
declarations: where the fast parse answers, typer gives the very same values; where they could
differ, the fast parse leaves the command line to typer (its help and errors)."""

from __future__ import annotations

import functools
import inspect
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from agent.cli.main import _call
from agent.cli.params import Param, as_typer, parse
from agent.cli.run_cmd import run_command
from tests.conftest import REPO_ROOT, run_subagent, subagent_argv, subprocess_env
from tests.model import sse
from tests.model.messages_server import MessagesServer


def _typer_values(argv: list[str]) -> dict[str, Any] | None:
    """What typer calls `run_command` with for `subagent run ARGV`, or None when it refuses."""
    seen: dict[str, Any] = {}

    @functools.wraps(run_command)
    def record(**values: Any) -> None:
        seen.update(values)

    app = typer.Typer()
    app.callback()(lambda: None)  # a group, as the real app: `run` is named
    app.command("run")(as_typer(record))
    result = CliRunner().invoke(app, ["run", *argv])
    return seen if result.exit_code == 0 else None


@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "a file").write_text("x")
    (tmp_path / "dir").mkdir()
    return {"file": str(tmp_path / "a file"), "dir": str(tmp_path / "dir"), "new": str(tmp_path / "new")}


USUAL = [
    [],
    ["fix the tests"],
    ["-"],
    [""],
    ["fix it", "-o", "json"],
    ["--output=stream-json", "fix it"],
    ["fix it", "--agent", "explore", "-m", "haiku", "--max-turns", "3"],
    ["--max-turns=007", "x"],
    ["x", "--permission-mode", "plan", "--trust", "-c", "--fork"],
    ["x", "--resume", "ses_1", "--command", "review"],
    ["-r", "ses_1", "--fork"],
    ["x", "--cwd", "{dir}"],
    ["x", "--cwd={new}", "--script", "{file}"],
    ["x", "--script", "{new}"],
    ["x", "--agent=", "--model="],
    ["x", "--cwd", "."],
    ["caf\u00e9 \u2603 \n two lines", "--output", "yaml"],  # the command says what is wrong with yaml
    ["--permission-mode", "yolo", "x"],
]
"""Command lines the fast parse reads itself."""

LEFT_TO_TYPER = [
    ["--help"],
    ["x", "--help"],
    ["-h"],
    ["--version"],
    ["--nope", "x"],
    ["a", "b"],
    ["--agent"],
    ["x", "--agent", "--model", "m"],
    ["x", "--agent", "a", "--agent", "b"],
    ["x", "-c", "-c"],
    ["--continue=1", "x"],
    ["-cr", "ses_1"],
    ["-ojson", "x"],
    ["x", "--max-turns", "0"],
    ["x", "--max-turns", "-3"],
    ["x", "--max-turns", "three"],
    ["x", "--max-turns", "3.0"],
    ["x", "--max-turns", "\u0663"],  # an Arabic-Indic digit
    ["x", "--cwd", "{file}"],
    ["--", "-x"],
    ["-x"],
    ["--max"],
    ["x", "--cwd", "a\x00b"],
]
"""Command lines typer must read: its help, its errors, or forms the fast parse does not take."""


def _filled(argv: list[str], places: dict[str, str]) -> list[str]:
    return [arg.format(**places) for arg in argv]


@pytest.mark.parametrize("argv", USUAL, ids=lambda argv: " ".join(argv)[:40])
def test_the_fast_parse_gives_what_typer_gives(argv: list[str], places: dict[str, str]) -> None:
    argv = _filled(argv, places)
    fast = parse(run_command, argv)
    assert fast is not None
    assert fast == _typer_values(argv)


@pytest.mark.parametrize("argv", LEFT_TO_TYPER, ids=lambda argv: " ".join(argv)[:40])
def test_what_the_fast_parse_leaves_to_typer(argv: list[str], places: dict[str, str]) -> None:
    assert parse(run_command, _filled(argv, places)) is None


def test_an_unreadable_path_is_left_to_typer() -> None:
    """typer's Path says "is not readable"; root reads anything, so the parse runs as `nobody`."""
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        os.chmod(folder, 0o755)
        secret = Path(folder, "secret")
        secret.mkdir(mode=0o000)
        code = (
            "from agent.cli.params import parse; from agent.cli.run_cmd import run_command; "
            f"print(parse(run_command, ['x', '--cwd', {str(secret)!r}]))"
        )
        argv = [sys.executable, "-c", code]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "nobody", "--", *argv]
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "None"


def test_the_declarations_are_typers_own() -> None:
    """Each parameter typer gets carries the declaration's default, flags, help and bounds."""
    command = as_typer(run_command)
    for name, parameter in inspect.signature(command).parameters.items():
        declared: Param = inspect.signature(run_command).parameters[name].default
        info = parameter.default
        assert isinstance(info, typer.models.OptionInfo if declared.decls else typer.models.ArgumentInfo)
        assert (info.default, info.help) == (declared.default, declared.help)
        if declared.decls:
            assert (info.param_decls, info.min, info.file_okay) == (
                declared.decls,
                declared.min,
                declared.file_okay,
            )


def test_the_help_lists_every_declared_flag() -> None:
    proc = run_subagent("run", "--help", COLUMNS="200")
    assert proc.returncode == 0
    flags = [flag for p in inspect.signature(run_command).parameters.values() for flag in p.default.decls]
    assert len(flags) > 10 and all(flag in proc.stdout for flag in flags)
    assert "Run one agent on one task." in proc.stdout


def test_a_reader_that_goes_away_ends_the_run_with_1_and_no_traceback(tmp_path: Path) -> None:
    """typer's rule, kept without it: a closed stdout (`subagent run ... | head -1`) is exit 1."""
    text = "".join(f"line {n}\n" for n in range(20000))
    with MessagesServer([sse.reply(sse.text_block(0, text, pieces=200))]) as server:
        proc = subprocess.Popen(
            subagent_argv("run", "x", "-o", "stream-json", "--agent", "explore", "--cwd", str(tmp_path)),
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=subprocess_env(ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url),
        )  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err


def _raises(exc: BaseException) -> Any:
    def command() -> None:
        raise exc

    return command


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (lambda: None, 0),
        (_raises(SystemExit(4)), 4),
        (_raises(KeyboardInterrupt()), 130),  # a second Ctrl-C, once the run's handler is gone
        (_raises(BrokenPipeError()), 1),
    ],
    ids=["returns", "exits", "interrupted", "broken-pipe"],
)
def test_a_command_typer_did_not_parse_ends_with_typers_codes(command: Any, code: int) -> None:
    assert _call(command, {}) == code
