"""Issue 20's two end-to-end tests: one workspace laid out as a real Claude Code project and one
as a real opencode project, each driven through one `subagent run` (trusted, default mode, no
terminal: an ask is a denial) as an unprivileged user with a scripted model. Every deny rule
holds, every hook fires with its documented input and its answer is obeyed, the agent file with
the peers' tools loads, and the skill and the command reach the model. The aspects one at a time,
each with its control, are in test_peer_rules.py, test_peer_hooks.py and test_peer_prompts.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.security.attacker import Call, Site

pytestmark = pytest.mark.bwrap

REVIEWER = (
    "---\nname: reviewer\ndescription: reviews\n"
    "tools: Read, Grep, Glob, Bash, MultiEdit, Task, WebFetch, WebSearch, TodoWrite\n---\nreview\n"
)
REVIEW = "---\ndescription: review\nallowed-tools: Bash(touch:*)\n---\nREVIEW-TEMPLATE look at $1 @app.py\n"
LOG = "cat >> .hooklog/{name}.jsonl; echo >> .hooklog/{name}.jsonl"
PRE = (
    'input=$(cat); printf "%s\\n" "$input" >> .hooklog/pre.jsonl; '
    'case "$input" in *forbidden*) echo "HOOK-SAYS-NO" >&2; exit 2;; esac'
)
POST = (
    LOG.format(name="post")
    + "; echo '"
    + json.dumps({"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "POST-CTX-9"}})
    + "'"
)


def _hook(command: str, matcher: str = "") -> list[dict[str, Any]]:
    return [{"matcher": matcher, "hooks": [{"type": "command", "command": command, "timeout": 30}]}]


CLAUDE_SETTINGS = {
    "permissions": {"deny": ["Bash(rm:*)", "Read(./.env)"], "allow": ["Bash(make:*)"]},
    "hooks": {
        "SessionStart": _hook("mkdir -p .hooklog; " + LOG.format(name="start") + "; echo SESSION-CTX-7"),
        "UserPromptSubmit": _hook(LOG.format(name="prompt") + "; echo PROMPT-CTX-3"),
        "PreToolUse": _hook(PRE, "Bash"),
        "PostToolUse": _hook(POST, "Bash"),
        "Notification": _hook(LOG.format(name="notification")),
        "SubagentStop": _hook(LOG.format(name="subagent_stop")),
        "Stop": _hook(LOG.format(name="stop")),
        "SessionEnd": _hook(LOG.format(name="end")),
    },
}


def _log(site: Site, name: str) -> list[dict[str, Any]]:
    text = (site.workspace / ".hooklog" / f"{name}.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _trust(site: Site) -> None:
    done = site.subagent("trust", str(site.workspace))
    assert done.returncode == 0, done.stderr


def test_a_claude_code_project_works_as_laid_out(site: Site) -> None:
    site.write("project/.env", "TOKEN=CANARY-dotenv\n")
    site.write("project/.claude/agents/reviewer.md", REVIEWER)
    settings = site.write("project/.claude/settings.json", json.dumps(CLAUDE_SETTINGS, indent=2))
    site.write("project/.claude/commands/review.md", REVIEW)
    site.write(
        "project/.claude/skills/deploy/SKILL.md",
        "---\nname: deploy\ndescription: DEPLOY-DESC\n---\nDEPLOY-BODY\n",
    )
    _trust(site)
    turns = [
        [Call("skill", {"name": "deploy"})],
        [Call("bash", {"command": "make --version"})],  # the settings' allow rule
        [Call("bash", {"command": "touch made.txt"})],  # the command's allowed-tools
        [Call("bash", {"command": "rm app.py"})],  # the settings' deny rule
        [Call("read", {"file_path": ".env"})],  # the settings' deny rule
        [Call("bash", {"command": "touch forbidden.txt"})],  # granted, but the PreToolUse hook denies
        [Call("bash", {"command": "mkdir other"})],  # no rule: asked (Notification), no terminal: denied
        [Call("task", {"description": "look", "prompt": "look around", "subagent_type": "explore"})],
    ]
    done = site.run(turns, prompt="/review app.py", agent="reviewer", mode=None, then=["all done"])
    assert "tool 'WebSearch' is not in subagent, so it is left out" in done.stderr  # the agent loads
    skill, make, touch, rm, env, forbidden, mkdir, task = done.results
    first = json.dumps(done.requests[0])
    assert "REVIEW-TEMPLATE look at app.py" in first and "print('hello')" in first  # command, $1, @file
    assert "- deploy: DEPLOY-DESC" in first and "DEPLOY-BODY" not in first  # listed, read on demand
    assert "SESSION-CTX-7" in first and "PROMPT-CTX-3" in first
    assert not skill.is_error and "DEPLOY-BODY" in skill.text
    assert not make.is_error, make.text
    assert not touch.is_error and "POST-CTX-9" in touch.text and (site.workspace / "made.txt").exists()
    assert rm.is_error and str(settings) in rm.text and (site.workspace / "app.py").exists(), rm.text
    assert env.is_error and "CANARY-dotenv" not in env.text, env.text
    assert forbidden.is_error and "HOOK-SAYS-NO" in forbidden.text, forbidden.text
    assert not (site.workspace / "forbidden.txt").exists()
    assert mkdir.is_error and not (site.workspace / "other").exists()
    assert not task.is_error, task.text

    pre = _log(site, "pre")
    assert [p["tool_input"]["command"] for p in pre][:2] == ["make --version", "touch made.txt"]
    assert all(p["hook_event_name"] == "PreToolUse" and p["tool_name"] == "Bash" for p in pre)
    assert all(p["tool_use_id"] and p["cwd"] == str(site.workspace) and p["session_id"] for p in pre)
    assert "made.txt" in json.dumps(_log(site, "post")[1]["tool_input"])
    assert _log(site, "start")[0]["source"] == "startup"
    assert _log(site, "prompt")[0]["prompt"].startswith("REVIEW-TEMPLATE")
    assert "mkdir other" in _log(site, "notification")[0]["message"]
    assert _log(site, "subagent_stop")[0]["hook_event_name"] == "SubagentStop"
    assert _log(site, "stop")[0]["stop_hook_active"] is False
    assert _log(site, "end")[0]["hook_event_name"] == "SessionEnd"
    assert [e["type"] for e in done.events][-1] == "result"


def test_an_opencode_project_works_as_laid_out(site: Site) -> None:
    site.write(
        "project/.opencode/agent/helper.md",
        "---\ndescription: helps\nmode: primary\ntools:\n  webfetch: true\n  todowrite: true\n---\nhelp\n",
    )
    config = site.write(
        "project/opencode.json",
        json.dumps({
            "permission": {"bash": {"rm *": "deny", "touch *": "allow"}},
            "agent": {"helper": {"permission": {"bash": {"git push *": "deny"}}}},
            "command": {"ship": {"template": "SHIP-TEMPLATE version $ARGUMENTS", "model": "haiku"}},
        }),
    )  # fmt: skip
    site.write("project/.opencode/skills/notes/SKILL.md", "---\ndescription: NOTES-DESC\n---\nNOTES-BODY\n")
    _trust(site)
    turns = [
        [Call("skill", {"name": "notes"})],
        [Call("bash", {"command": "touch made.txt"})],
        [Call("bash", {"command": "rm app.py"})],
        [Call("bash", {"command": "git push origin main"})],
    ]
    done = site.run(turns, prompt="v2", args=["--command", "ship"], agent="helper", mode=None)
    assert "tool 'todowrite' is not in subagent" in done.stderr  # the agent loads
    skill, touch, rm, push = done.results
    first = json.dumps(done.requests[0])
    assert "SHIP-TEMPLATE version v2" in first and "- notes: NOTES-DESC" in first
    assert done.requests[0]["model"] == "claude-haiku-5-5"  # the command's model
    assert "webfetch" in [t["name"] for t in done.requests[0]["tools"]]  # `webfetch: true` maps
    assert not skill.is_error and "NOTES-BODY" in skill.text
    assert not touch.is_error and (site.workspace / "made.txt").exists(), touch.text
    assert rm.is_error and str(config) in rm.text and (site.workspace / "app.py").exists(), rm.text
    assert push.is_error and "git push *" in push.text and str(config) in push.text, push.text
