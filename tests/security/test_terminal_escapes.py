"""Terminal safety end to end: a hostile model and repository against `subagent run --output text`.

The scripted model streams escape sequences in its text and thinking, in a bash command (the
call's title), in the name and content of a file it writes, and makes bash print them. What the
user's terminal gets (stdout and stderr) must hold no ESC, BEL, C1 or other control but newline
and tab, with every attempt visible as an escape; what the model reads must be exact for a file
and stripped of escape sequences for a program's output. The JSON modes carry the exact text.
Then `sessions list/show`, `undo` and `agents list/show` print what that run (and a workspace
persona) left behind.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from tests.model import sse
from tests.model.messages_server import MessagesServer
from tests.security.attacker import API_KEY_CANARY, Call, Outcome, Site
from tests.terminal.test_safe_text import is_unsafe_for_a_terminal

TEXT = (
    "Working. \x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b[H\x1b[8mhidden\x1b[0m \x9b31m8bit "
    "safe\rrm -rf / bell\x07 back\x08\x7f \u202eevil\u202c [link=https://evil.example]click[/link]"
)
THINKING = "thinking \x1b]0;PWNED-THINKING\x07 \x1b[2J"
NAME = "evil\x1b]0;PWNED-NAME\x07\u202e.txt"
CONTENT = "file says \x1b]52;c;ZmlsZQ==\x07 and \x1b[31mred\x1b[0m\n"
TITLE_COMMAND = "echo titled # \x1b]2;PWNED-CMD\x07\x1b[1A\x1b[2K"
OUTPUT_COMMAND = r"printf '\033[31mred\033[0m plain \033]0;PWNED-OUT\007done\033[K\n'"
TOUCH_COMMAND = r"""touch "$(printf 'made\033]0;PWNED-TOUCH\007.txt')" && echo made"""
PROMPT = "fix it \x1b]0;PWNED-PROMPT\x07"


def _turns() -> tuple[list[str], list[Call]]:
    """Replies of the scripted model, and its calls in order (ids `toolu_attack_N`, as `Outcome`
    reads them)."""
    first = [
        Call("write", {"file_path": NAME, "content": CONTENT}),
        Call("bash", {"command": TITLE_COMMAND}),
        Call("bash", {"command": OUTPUT_COMMAND}),
        Call("bash", {"command": TOUCH_COMMAND}),
    ]
    second = [Call("read", {"file_path": NAME}), Call("glob", {"pattern": "*.txt"})]
    replies, calls = [], []
    opening = [sse.thinking_block(0, THINKING, "sig"), sse.text_block(1, TEXT, pieces=7)]
    for prefix, turn in ((opening, first), ([sse.text_block(0, TEXT)], second)):
        blocks = list(prefix)
        for call in turn:
            blocks.append(sse.tool_block(len(blocks), f"toolu_attack_{len(calls)}", call.name, call.input))
            calls.append(call)
        replies.append(sse.reply(*blocks, stop_reason="tool_use"))
    replies.append(sse.reply(sse.text_block(0, TEXT, pieces=5)))
    return replies, calls


def _run(site: Site, mode: str, output: str) -> Outcome:
    replies, calls = _turns()
    with MessagesServer(replies) as server:
        proc = site.subagent(
            "run",
            PROMPT,
            "--agent",
            "backend-engineer",
            "--cwd",
            str(site.workspace),
            "--output",
            output,
            "--permission-mode",
            mode,
            input="",
            ANTHROPIC_API_KEY=API_KEY_CANARY,
            ANTHROPIC_BASE_URL=server.url,
            COLUMNS="1000",
        )  # long lines unwrapped, so the checks can find them
        return Outcome(proc.returncode, proc.stdout, proc.stderr, list(server.requests), calls)


def _raw_controls(*texts: str) -> list[str]:
    return [c for text in texts for c in text if is_unsafe_for_a_terminal(c)]


def test_the_attack_strings_carry_real_sequences(site: Site) -> None:
    """The control: the scripted strings and bash's own output hold the raw sequences, so the
    checks below would see any of them printed raw."""
    assert len(_raw_controls(TEXT, THINKING, NAME, CONTENT, TITLE_COMMAND)) >= 20
    bare = site.shell(OUTPUT_COMMAND)
    assert "\x1b[31mred\x1b[0m" in bare.stdout and "\x1b]0;PWNED-OUT\x07" in bare.stdout


def test_json_output_carries_the_exact_text(site: Site) -> None:
    outcome = _run(site, "bypass", "stream-json")
    assert outcome.returncode == 0, outcome.stderr
    events = outcome.events
    deltas = "".join(e["text"] for e in events if e["type"] == "text_delta")
    assert deltas == TEXT * 3
    titles = [e["title"] for e in events if e["type"] == "tool_call_started"]
    assert f"bash: {TITLE_COMMAND}" in titles
    assert "\x1b" not in outcome.stdout  # JSON escapes it: `\u001b`, the text itself unchanged


@pytest.mark.parametrize("mode", ["default", "bypass"])
def test_nothing_reaches_the_terminal_raw(site: Site, mode: str) -> None:
    outcome = _run(site, mode, "text")
    assert outcome.returncode == (0 if mode == "bypass" else 3), outcome.stderr
    assert not _raw_controls(outcome.stdout, outcome.stderr)
    shown = outcome.stdout
    opening = "\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b]0;PWNED-TITLE\\x07\\x1b[2J\\x1b[H\\x1b[8mhidden"
    assert shown.count(opening) == 3
    assert "\\x9b31m8bit safe\\rrm -rf / bell\\x07 back\\x08\\x7f \\u202eevil\\u202c" in shown
    assert "[link=https://evil.example]click[/link]" in shown  # markup printed as text
    assert "thinking \\x1b]0;PWNED-THINKING\\x07 \\x1b[2J" in shown
    assert "bash: echo titled # \\x1b]2;PWNED-CMD\\x07\\x1b[1A\\x1b[2K" in shown  # a tool call's title
    assert "evil\\x1b]0;PWNED-NAME\\x07\\u202e.txt" in shown  # the file name, in the write's title
    if mode == "bypass":
        assert "+file says \\x1b]52;c;ZmlsZQ==\\x07 and \\x1b[31mred\\x1b[0m" in shown  # its diff
    else:
        assert "? permission edit for write evil\\x1b]0;PWNED-NAME\\x07\\u202e.txt" in shown  # the asks
        assert "? permission bash for bash: touch " in shown and "denied: write (" in shown


def test_the_model_reads_files_exactly_and_program_output_without_escapes(site: Site) -> None:
    outcome = _run(site, "bypass", "text")
    assert outcome.returncode == 0, outcome.stderr
    write, titled, printed, touched, read, listed = outcome.results
    assert not write.is_error and (site.workspace / NAME).read_text() == CONTENT
    assert titled.text == "titled\n[exit code: 0]"
    assert printed.text == "red plain done\n[exit code: 0]"  # colours, title and erase removed
    assert touched.text == "made\n[exit code: 0]"
    assert f"1\t{CONTENT.rstrip()}" in read.text  # a file is what it holds, escapes and all
    assert NAME in listed.text and "made\x1b]0;PWNED-TOUCH\x07.txt" in listed.text  # names exact
    sent = outcome.requests[1]["messages"][-1]["content"]
    assert all("\x1b" not in json.dumps(block, ensure_ascii=False) for block in sent[1:])  # bash results


@pytest.mark.parametrize("command", [("sessions", "list"), ("sessions", "show"), ("undo", "--yes")])
def test_what_the_run_left_behind_is_shown_escaped(site: Site, command: Sequence[str]) -> None:
    assert _run(site, "bypass", "text").returncode == 0
    args = list(command)
    if command == ("sessions", "show"):
        listed = site.subagent("sessions", "list", "--json", "--cwd", str(site.workspace))
        args.append(json.loads(listed.stdout)[0]["id"])
    else:
        args += ["--cwd", str(site.workspace)]
    done = site.subagent(*args, input="")
    assert done.returncode == 0, done.stderr
    assert not _raw_controls(done.stdout, done.stderr)
    if command[0] == "undo":
        assert "delete   evil\\x1b]0;PWNED-NAME\\x07\\u202e.txt" in done.stdout
        assert "delete   made\\x1b]0;PWNED-TOUCH\\x07.txt" in done.stdout
        assert not (site.workspace / NAME).exists()
    else:
        assert "fix it \\x1b]0;PWNED-PROMPT\\x07" in done.stdout  # the session's title
    if command[1] == "show":
        assert "\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b]0;PWNED-TITLE\\x07" in done.stdout  # the transcript


PERSONA = """---
name: evil-helper
description: "Helps. \\e]0;PWNED-PERSONA\\a\\e]52;c;cGVyc29uYQ==\\a\\e[2J \\
  [link=https://evil.example]docs[/link] \\u202eevil"
mode: subagent
---
A persona someone else wrote.
"""


@pytest.mark.parametrize("command", [("agents", "list"), ("agents", "show", "evil-helper")])
def test_a_workspace_persona_is_listed_escaped(site: Site, command: Sequence[str]) -> None:
    site.write(site.workspace / ".subagent" / "agents" / "evil-helper.md", PERSONA)
    done = site.subagent(*command, "--cwd", str(site.workspace), COLUMNS="400")
    assert done.returncode == 0, done.stderr
    assert not _raw_controls(done.stdout, done.stderr)
    assert (
        "Helps. \\x1b]0;PWNED-PERSONA\\x07\\x1b]52;c;cGVyc29uYQ==\\x07\\x1b[2J "
        "[link=https://evil.example]docs[/link] \\u202eevil"
    ) in done.stdout
