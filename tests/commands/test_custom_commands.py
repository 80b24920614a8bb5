"""Custom slash commands: found in the peers' and our folders, expanded, in chat and headless."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from agent.chat.slash import SlashCommands
from agent.chat.state import ChatState
from agent.prompt.custom_commands import expand, find_commands, split_command_line
from tests.conftest import put, run_subagent
from tests.model import sse
from tests.model.messages_server import MessagesServer

REVIEW = (
    "---\ndescription: Review a file\nargument-hint: FILE [FOCUS]\nmodel: haiku\n---\n"
    "Review @$1 for $2.\nAll: $ARGUMENTS\n"
)

WHY_SUBTASK = "it runs in the session it is typed in; its `agent` picks who runs it"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "ws/.git").mkdir(parents=True)
    return (tmp_path / "ws").resolve()


def test_commands_from_every_folder_and_opencode_json(ws: Path) -> None:
    put(Path(os.environ["CLAUDE_CONFIG_DIR"]), "commands/mine.md", "user command")
    put(ws, ".claude/commands/review.md", REVIEW)
    put(ws, ".claude/commands/frontend/lint.md", "lint the frontend")
    put(ws, ".opencode/command/test.md", "---\ndescription: run tests\n---\nrun the tests")
    put(
        ws,
        "opencode.json",
        json.dumps(
            {"command": {"ship": {"template": "ship it", "description": "deploy", "agent": "explore"}}}
        ),
    )
    commands, errors = find_commands(ws)
    assert list(commands) == ["frontend:lint", "mine", "review", "ship", "test"] and errors == []
    review = commands["review"]
    assert (review.description, review.argument_hint, review.model) == (
        "Review a file",
        "FILE [FOCUS]",
        "haiku",
    )
    assert (commands["ship"].template, commands["ship"].agent) == ("ship it", "explore")


def test_a_broken_frontmatter_is_reported_as_the_pure_yaml_parser_words_it(ws: Path) -> None:
    """Frontmatter is parsed by libyaml (`agent.registry.yaml_text`); a file it refuses is parsed
    again by PyYAML's own parser, so the error keeps that parser's wording, line and snippet."""
    import yaml

    path = put(ws, ".claude/commands/bad.md", "---\ndescription: a\nmodel: [haiku\n---\nbody\n")
    put(ws, ".claude/commands/good.md", "---\ndescription: fine\n---\nbody\n")
    with pytest.raises(yaml.YAMLError) as pure:
        yaml.safe_load("description: a\nmodel: [haiku\n")
    commands, errors = find_commands(ws)
    assert list(commands) == ["good"] and errors == [f"{path}: {pure.value}"]


def test_arguments_positions_and_file_includes(ws: Path, tmp_path: Path) -> None:
    put(ws, "app.py", "print('APP-BODY')\n")
    put(tmp_path, "outside.txt", "CANARY-outside")
    review = find_commands(put(ws, ".claude/commands/review.md", REVIEW).parents[2])[0]["review"]
    text = expand(review, "app.py 'error handling'", ws)
    assert text.startswith("Review @app.py for error handling.\nAll: app.py 'error handling'")
    assert "<file path=\"app.py\">\nprint('APP-BODY')\n\n</file>" in text
    escaped = expand(review, "../outside.txt x", ws)
    assert "CANARY-outside" not in escaped  # a file outside the workspace is not included
    plain = find_commands(put(ws, ".claude/commands/plain.md", "Do the thing.").parents[2])[0]["plain"]
    assert expand(plain, "now please", ws) == "Do the thing.\n\nnow please"
    assert split_command_line("/review a b") == ("review", "a b") and split_command_line("review") is None
    assert split_command_line("/review\n\n@/ws/app.py") == ("review", "@/ws/app.py")  # an editor's mention
    assert split_command_line("/review") == ("review", "") and split_command_line("/ review") is None


def test_an_editors_mention_as_a_positional_argument_is_included(ws: Path) -> None:
    put(ws, "app.py", "print('APP-BODY')\n")
    review = find_commands(put(ws, ".claude/commands/review.md", REVIEW).parents[2])[0]["review"]
    mention = f"@{ws}/app.py"  # how an editor (ACP) passes a mentioned file
    text = expand(review, f"{mention} speed", ws)
    assert text.startswith(
        f"Review {mention} for speed.\nAll: {mention} speed"
    )  # one `@`; $ARGUMENTS as given
    assert f"<file path=\"{ws}/app.py\">\nprint('APP-BODY')" in text
    assert expand(review, "app.py speed", ws).startswith("Review @app.py for speed.")


async def test_chat_lists_and_runs_custom_commands(ws: Path) -> None:
    put(ws, ".claude/commands/review.md", REVIEW)
    put(ws, ".claude/commands/undescribed.md", "---\nmodel: haiku\n---\nTidy the imports.\nThen sort them.\n")
    out = io.StringIO()
    commands = SlashCommands(ChatState(cwd=ws, agent="orchestrator"), Console(file=out, width=120))
    await commands.run("/help")
    assert "/review FILE [FOCUS] Review a file" in out.getvalue()
    assert "/undescribed Tidy the imports." in out.getvalue()  # no description: the first line
    assert "Then sort them" not in out.getvalue()
    assert await commands.run("/review app.py speed") is False
    turn = commands.take_command()
    assert turn is not None and turn.prompt.startswith("Review @app.py for speed.")
    assert (turn.model, turn.grant) == ("haiku", None)  # its model for its turn; no allowed-tools
    assert commands.take_command() is None
    await commands.run("/nope")
    assert "unknown command /nope; commands: /agents," in out.getvalue() and "/review" in out.getvalue()


def test_headless_unknown_command_is_a_clear_error(ws: Path) -> None:
    put(ws, ".claude/commands/review.md", REVIEW)
    done = run_subagent(
        "run", "--command", "reveiw", "x", "--cwd", str(ws), "--script", str(ws / "none.json")
    )
    assert done.returncode == 2 and "no custom command 'reveiw'" in done.stderr and "/review" in done.stderr


async def test_keys_not_applied_are_reported_once_and_by_doctor(
    ws: Path, caplog: pytest.LogCaptureFixture
) -> None:
    put(ws, ".opencode/command/ship.md", "---\nsubtask: true\n---\nShip it.")
    put(ws, "opencode.json", json.dumps({"command": {"look": {"template": "Look.", "subtask": True}}}))
    put(ws, ".claude/commands/user-only.md", "---\ndisable-model-invocation: true\n---\nCommit.")
    put(ws, ".claude/commands/model-too.md", "---\ndisable-model-invocation: false\n---\nLint.")
    commands = find_commands(ws)[0]
    assert commands["ship"].unapplied == (f"subtask of /ship: not applied ({WHY_SUBTASK})",)
    assert commands["look"].unapplied[0].startswith("subtask of /look: not applied")
    assert commands["user-only"].unapplied == ()  # honoured: only a person runs a command here
    assert commands["model-too"].unapplied[0].startswith("disable-model-invocation of /model-too: false")

    doctor = run_subagent("doctor", "--json", cwd=ws)
    config = next(c["detail"] for c in json.loads(doctor.stdout) if c["name"] == "config files")
    assert f"not applied: {ws}/.opencode/command/ship.md: subtask of /ship" in config, config
    assert f"not applied: {ws}/opencode.json: subtask of /look" in config

    slash = SlashCommands(ChatState(cwd=ws, agent="orchestrator"), Console(file=io.StringIO()))
    for _ in range(2):
        await slash.run("/ship")
        assert slash.take_command() is not None  # it still runs, in the chat's session
    warned = [r.getMessage() for r in caplog.records if "subtask of /ship" in r.getMessage()]
    assert warned == [f"{ws}/.opencode/command/ship.md: subtask of /ship: not applied ({WHY_SUBTASK})"]

    with MessagesServer([sse.reply(sse.text_block(0, "looked"))]) as server:
        done = run_subagent(
            "run", "/look", "--cwd", str(ws), ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url
        )
    assert done.returncode == 0 and "looked" in done.stdout, done.stderr
    assert f"{ws}/opencode.json: subtask of /look: not applied" in done.stderr
