"""The peers' permission files hold through a real `subagent run`, as an unprivileged user.

A Claude Code project (`.claude/settings.json`, an agent listing peer tools) and an opencode
project (`opencode.json`, a persona that allows all of bash): every deny rule stops the call that
the same run without the file lets through (the control), in bypass and default modes; a
workspace's allow rule applies only once the folder is trusted.
"""

from __future__ import annotations

import json

import pytest

from tests.security.attacker import Call, Outcome, Site

pytestmark = pytest.mark.bwrap

WORKER = (
    "---\nname: worker\ndescription: w\ntools: Read, Grep, Glob, Bash, WebFetch, WebSearch, TodoWrite\n"
    "---\nwork\n"
)
DELETE = Call("bash", {"command": "rm app.py"})


def _trust(site: Site) -> None:
    done = site.subagent("trust", str(site.workspace))
    assert done.returncode == 0, done.stderr


def _started(outcome: Outcome) -> dict:
    event = next((e for e in outcome.events if e.get("type") == "session_started"), None)
    assert event is not None, f"no session_started (exit {outcome.returncode}): {outcome.stderr[-2000:]}"
    return event


def test_claude_settings_deny_rules_hold_in_bypass_mode(site: Site) -> None:
    site.write("project/.env", "TOKEN=CANARY-dotenv\n")
    site.write("project/.claude/agents/worker.md", WORKER)
    settings = site.write(
        "project/.claude/settings.json",
        json.dumps({"permissions": {"deny": ["Bash(rm:*)", "Read(./.env)"]}}, indent=2),
    )
    read_env = Call("read", {"file_path": str(site.workspace / ".env")})
    held = site.run([[DELETE], [read_env]], agent="worker")
    delete, read = held.results
    assert delete.is_error and "rm *" in delete.text and str(settings) in delete.text, delete.text
    assert read.is_error and "CANARY-dotenv" not in read.text, read.text
    assert (site.workspace / "app.py").exists()
    assert "tool 'WebSearch' is not in subagent, so it is left out" in held.stderr  # the agent loads
    assert "tool 'TodoWrite' is not in subagent" in held.stderr
    settings.unlink()  # the control: the same run without the file deletes and reads
    control = site.run([[DELETE], [read_env]], agent="worker")
    assert not control.results[0].is_error, control.results[0].text
    assert "CANARY-dotenv" in control.results[1].text
    assert not (site.workspace / "app.py").exists()


def test_opencode_deny_holds_against_a_persona_that_allows_all_bash(site: Site) -> None:
    site.write(
        "project/.opencode/agent/build.md", "---\nmode: primary\npermission:\n  bash: allow\n---\nbuild\n"
    )
    config = site.write("project/opencode.json", json.dumps({"permission": {"bash": {"rm *": "deny"}}}))
    _trust(site)
    held = site.run([[DELETE]], agent="build", mode=None)
    assert held.results[0].is_error and "rm *" in held.results[0].text, held.results[0].text
    assert (site.workspace / "app.py").exists()
    config.unlink()  # the control: the persona's allow alone lets the command run, no ask
    control = site.run([[DELETE]], agent="build", mode=None)
    assert not control.results[0].is_error, control.results[0].text
    assert not (site.workspace / "app.py").exists()


def test_a_workspace_allow_rule_applies_only_when_trusted(site: Site) -> None:
    settings = site.write(
        "project/.claude/settings.json", json.dumps({"permissions": {"allow": ["Bash(touch:*)"]}})
    )
    touch = Call("bash", {"command": "touch made.txt"})
    untrusted = site.run([[touch]], mode=None)
    assert untrusted.results[0].is_error and not (site.workspace / "made.txt").exists()
    refused = _started(untrusted)["refused"]
    assert any(line.startswith(f"{settings}: permission.bash.touch *: refused (") for line in refused), (
        refused
    )
    _trust(site)
    trusted = site.run([[touch]], mode=None)
    assert not trusted.results[0].is_error, trusted.results[0].text
    assert (site.workspace / "made.txt").exists()
