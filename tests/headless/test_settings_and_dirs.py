"""`subagent -p --settings FILE|JSON` and `--add-dir DIR`, run as the real command against a local
Messages API: the settings' rules, mode, hooks and env take effect and win over the workspace's;
an added folder is writable by the file tools and bash, a folder outside still is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_subagent
from tests.headless.conftest import SdkSite
from tests.model import sse
from tests.model.messages_server import MessagesServer


def _calls(*calls: tuple[str, dict[str, Any]]) -> list[str]:
    """A model that makes each call in its own turn, then says Done."""
    turns = [
        sse.reply(sse.tool_block(0, f"toolu_{i}", name, args), stop_reason="tool_use")
        for i, (name, args) in enumerate(calls)
    ]
    return [*turns, sse.reply(sse.text_block(0, "Done."))]


def _write(path: str) -> tuple[str, dict[str, Any]]:
    return "write", {"file_path": path, "content": "x\n"}


def _run(site: SdkSite, replies: list[str], *flags: str) -> tuple[dict[str, Any], list[str]]:
    """The run's result message and the tool results the model read, in order."""
    with MessagesServer(replies) as server:
        env = {**site.env, "ANTHROPIC_BASE_URL": server.url}
        proc = run_subagent("-p", "go", "--output-format", "stream-json", *flags, cwd=site.workspace, **env)
    assert proc.returncode in (0, 1), proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    told = [str(m["message"]["content"][0]["content"]) for m in lines if m["type"] == "user"]
    return lines[-1], told


def _denied(result: dict[str, Any]) -> dict[str, str]:
    return {d["tool_input"]["file_path"]: d["reason"] for d in result["permission_denials"]}


def test_settings_json_rules_apply_and_their_deny_holds_in_bypass(sdk_site: SdkSite) -> None:
    settings = {"permissions": {"allow": ["Write(ok.txt)"], "deny": ["Write(secret.txt)"]}}
    replies = _calls(_write("ok.txt"), _write("secret.txt"))
    result, _ = _run(
        sdk_site, replies, "--settings", json.dumps(settings), "--permission-mode", "bypassPermissions"
    )
    assert (sdk_site.workspace / "ok.txt").exists() and not (sdk_site.workspace / "secret.txt").exists()
    assert "deny by rule edit: `secret.txt` from --settings" in _denied(result)["secret.txt"]


def test_a_settings_file_wins_over_the_workspaces_and_sets_env(sdk_site: SdkSite, tmp_path: Path) -> None:
    """The workspace says plan mode; the file says acceptEdits, and its env names the API server
    (the process's own ANTHROPIC_BASE_URL points nowhere)."""
    claude = sdk_site.workspace / ".claude"
    claude.mkdir()
    (claude / "settings.json").write_text(json.dumps({"permissions": {"defaultMode": "plan"}}))
    with MessagesServer(_calls(_write("a.txt"))) as server:
        settings = tmp_path / "caller-settings.json"
        settings.write_text(
            json.dumps(
                {
                    "permissions": {"defaultMode": "acceptEdits"},
                    "env": {"ANTHROPIC_BASE_URL": server.url},
                    "statusLine": {},
                }
            )
        )
        env = {**sdk_site.env, "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}
        proc = run_subagent(
            "-p", "go", "--output-format", "json", "--settings", str(settings), cwd=sdk_site.workspace, **env
        )
    assert proc.returncode == 0, proc.stderr
    assert (sdk_site.workspace / "a.txt").exists() and json.loads(proc.stdout)["permission_denials"] == []
    assert "statusLine: not read by subagent" in proc.stderr  # what no reader applies is said


@pytest.mark.bwrap
def test_settings_hooks_run(sdk_site: SdkSite) -> None:
    hook = {"type": "command", "command": "echo 'the caller blocks writes' >&2; exit 2"}
    settings = {"hooks": {"PreToolUse": [{"matcher": "Write", "hooks": [hook]}]}}
    result, _ = _run(
        sdk_site,
        _calls(_write("a.txt")),
        "--settings",
        json.dumps(settings),
        "--permission-mode",
        "acceptEdits",
    )
    assert not (sdk_site.workspace / "a.txt").exists()
    assert "the caller blocks writes" in _denied(result)["a.txt"]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ('{"permissions": {"deny": "Bash"}}', "permissions.deny"),
        ("missing.json", "--settings missing.json: cannot read it"),
        ('{"env": {"A": 1}}', "env: must be an object of strings"),
    ],
)
def test_bad_settings_end_the_command_before_anything_runs(sdk_site: SdkSite, value: str, said: str) -> None:
    proc = run_subagent("-p", "go", "--settings", value, cwd=sdk_site.workspace, **sdk_site.env)
    assert proc.returncode == 2 and said in proc.stderr, proc.stderr


@pytest.mark.bwrap
def test_an_added_folder_is_writable_and_one_outside_is_not(sdk_site: SdkSite, tmp_path: Path) -> None:
    shared, other = tmp_path / "shared", tmp_path / "other"
    shared.mkdir()
    other.mkdir()
    replies = _calls(
        _write(str(shared / "by-tool.txt")),
        _write(str(other / "by-tool.txt")),
        ("bash", {"command": f"echo hi > {shared}/by-bash.txt"}),
        ("bash", {"command": f"echo hi > {other}/by-bash.txt"}),
    )
    _, told = _run(sdk_site, replies, "--add-dir", str(shared), "--permission-mode", "bypassPermissions")
    assert sorted(p.name for p in shared.iterdir()) == ["by-bash.txt", "by-tool.txt"]
    assert list(other.iterdir()) == []
    assert "write refused by the sandbox policy" in told[1]
    assert "No such file or directory" in told[3] or "Read-only file system" in told[3]


def test_add_dir_must_be_a_folder(sdk_site: SdkSite) -> None:
    proc = run_subagent("-p", "go", "--add-dir", "nowhere", cwd=sdk_site.workspace, **sdk_site.env)
    assert proc.returncode == 2 and "--add-dir 'nowhere' is not a directory" in proc.stderr
