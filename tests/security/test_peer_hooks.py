"""Claude Code hooks through a real `subagent run`, as an unprivileged user: every hook fires with
its documented input, in the sandbox, and its answer is obeyed; a workspace's hooks only once the
folder is trusted (before that, the same `rm` the hook would stop runs: the control), the user's
own hooks always."""

from __future__ import annotations

import json

import pytest

from tests.security.attacker import Call, Site

pytestmark = pytest.mark.bwrap

PRE = (
    'input=$(cat); printf "%s" "$input" > .hooklog/pre.json; '
    'case "$input" in *\'"command": "rm \'*) echo "no deleting here" >&2; exit 2;; esac'
)
POST = (
    "cat > .hooklog/post.json; "
    """echo '{"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "POST-CTX-9"}}'"""
)
STOP = (
    'input=$(cat); printf "%s\\n" "$input" >> .hooklog/stop.jsonl; '
    'case "$input" in *\'"stop_hook_active": false\'*) echo "run the tests first" >&2; exit 2;; esac'
)


def _hook(command: str, matcher: str = "") -> list[dict[str, object]]:
    return [{"matcher": matcher, "hooks": [{"type": "command", "command": command, "timeout": 30}]}]


SETTINGS = {
    "hooks": {
        "SessionStart": _hook("mkdir -p .hooklog; cat > .hooklog/start.json; echo SESSION-CTX-7"),
        "UserPromptSubmit": _hook("cat > .hooklog/prompt.json; echo PROMPT-CTX-3"),
        "PreToolUse": _hook(PRE, "Bash"),
        "PostToolUse": _hook(POST, "Bash"),
        "Stop": _hook(STOP),
        "SessionEnd": _hook("cat > .hooklog/end.json"),
    }
}
USER = {"hooks": {"UserPromptSubmit": _hook("echo USER-CTX-5")}}
TURNS = [[Call("bash", {"command": "rm app.py"})], [Call("bash", {"command": "echo hi"})]]


def test_claude_code_hooks_fire_with_their_input_and_are_obeyed_once_trusted(site: Site) -> None:
    site.write(".claude/settings.json", json.dumps(USER))
    settings = site.write("project/.claude/settings.json", json.dumps(SETTINGS))
    untrusted = site.run(TURNS, prompt="tidy up")
    started = next(e for e in untrusted.events if e["type"] == "session_started")
    assert any(line.startswith(f"{settings}: hooks: refused (") for line in started["refused"])
    assert not (site.workspace / "app.py").exists()  # the control: without the hook, rm ran
    assert "USER-CTX-5" in untrusted.everything_the_model_saw()  # the user's own hook always runs
    assert "SESSION-CTX-7" not in untrusted.everything_the_model_saw()

    site.write("project/app.py", "print('hello')\n")
    assert site.subagent("trust", str(site.workspace)).returncode == 0
    trusted = site.run(TURNS, prompt="tidy up", then=["finished"])
    denied, echoed = trusted.results
    assert denied.is_error and "no deleting here" in denied.text, denied.text
    assert (site.workspace / "app.py").exists()
    assert not echoed.is_error and "hi" in echoed.text and "POST-CTX-9" in echoed.text, echoed.text
    saw = trusted.everything_the_model_saw()
    assert all(
        marker in saw for marker in ("SESSION-CTX-7", "PROMPT-CTX-3", "USER-CTX-5", "run the tests first")
    )

    log = site.workspace / ".hooklog"
    pre = json.loads((log / "pre.json").read_text())  # the last PreToolUse: `echo hi`
    assert pre["hook_event_name"] == "PreToolUse" and pre["tool_name"] == "Bash"
    assert pre["tool_input"] == {"command": "echo hi"} and pre["tool_use_id"].startswith("toolu_")
    assert pre["cwd"] == str(site.workspace) and pre["session_id"] and pre["permission_mode"] == "bypass"
    post = json.loads((log / "post.json").read_text())
    assert "hi" in post["tool_response"]["output"]
    assert json.loads((log / "prompt.json").read_text())["prompt"] == "tidy up"
    assert json.loads((log / "start.json").read_text())["source"] == "startup"
    stops = [json.loads(line) for line in (log / "stop.jsonl").read_text().splitlines()]
    assert [s["stop_hook_active"] for s in stops] == [False, True]
    assert json.loads((log / "end.json").read_text())["hook_event_name"] == "SessionEnd"
    hooks = [e for e in trusted.events if e["type"] == "hook"]
    assert {e["hook_event"] for e in hooks} >= {"SessionStart", "UserPromptSubmit", "PreToolUse", "Stop"}
    assert any(e["decision"] == "deny" and e["message"] == "no deleting here" for e in hooks)
    assert [e["type"] for e in trusted.events][-1] == "result"


def test_a_failing_hook_is_reported_and_the_run_goes_on(site: Site) -> None:
    site.write(".claude/settings.json", json.dumps({"hooks": {"PreToolUse": _hook("exit 7")}}))
    done = site.run([[Call("bash", {"command": "echo fine"})]])
    assert not done.results[0].is_error and "fine" in done.results[0].text
    failed = [e for e in done.events if e["type"] == "hook" and e["failed"]]
    assert failed and failed[0]["exit_code"] == 7 and "exited with 7" in failed[0]["message"]
    text = site.run([[Call("bash", {"command": "echo fine"})]], output="text")
    assert "hook PreToolUse `exit 7` failed: it exited with 7" in text.stdout
