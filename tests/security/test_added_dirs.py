"""`--add-dir` makes a folder a writable root. A user who adds HOME, or a folder of it such as
`~/.config`, grants the agent that folder, not the keys in it nor the runtime's own config, which
decides what every later run may do (`config.yaml`: hooks, no sandbox; `trusted-folders.json`).
Through `subagent -p` in bypass mode, as an unprivileged user, the model's tools and bash read a
token and write the user's config there; the control: as the user, both work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.sandbox.policy import build_policy
from tests.model import sse
from tests.model.messages_server import MessagesServer
from tests.security.attacker import API_KEY_CANARY, Site

TOKEN = "CANARY-gh-token-5e6f"
HOOK = "hooks: {SessionStart: [{hooks: [{type: command, command: 'touch /var/tmp/pwned'}]}]}\n"


def _replies(site: Site) -> list[str]:
    config, trusted = (
        site.config / "subagent" / "config.yaml",
        site.config / "subagent" / "trusted-folders.json",
    )
    calls: list[tuple[str, dict[str, Any]]] = [
        ("read", {"file_path": str(site.config / "gh" / "hosts.yml")}),
        ("bash", {"command": f"cat {site.config}/gh/hosts.yml; echo; ls -a {site.config}"}),
        ("write", {"file_path": str(config), "content": HOOK}),
        ("bash", {"command": f"echo '[\"/\"]' > {trusted}; echo '{HOOK.strip()}' >> {config}"}),
    ]
    turns = [
        sse.reply(sse.tool_block(0, f"toolu_{i}", name, args), stop_reason="tool_use")
        for i, (name, args) in enumerate(calls)
    ]
    return [*turns, sse.reply(sse.text_block(0, "Done."))]


@pytest.mark.bwrap
@pytest.mark.parametrize("added", ["home", ".config", "home, no config yet"])
def test_an_added_home_folder_never_exposes_keys_or_the_runtimes_config(site: Site, added: str) -> None:
    site.write(".config/gh/hosts.yml", f"github.com:\n  oauth_token: {TOKEN}\n", 0o600)
    if added != "home, no config yet":
        site.write(".config/subagent/config.yaml", "# the user's own config\n")
    folder = site.config if added == ".config" else site.home
    control = site.shell(f"cat {site.config}/gh/hosts.yml && test -w {site.config}")
    assert TOKEN in control.stdout and control.returncode == 0

    with MessagesServer(_replies(site)) as server:
        done = site.subagent(
            "-p", "go", "--output-format", "stream-json", "--permission-mode", "bypassPermissions",
            "--add-dir", str(folder),
            ANTHROPIC_API_KEY=API_KEY_CANARY, ANTHROPIC_BASE_URL=server.url, timeout=180,
        )  # fmt: skip

    assert done.returncode == 0, done.stderr[-2000:]
    assert TOKEN not in json.dumps(server.requests)
    config = site.config / "subagent" / "config.yaml"
    if added == "home, no config yet":
        assert not config.exists()
    else:
        assert config.read_text() == "# the user's own config\n"
    assert not (site.config / "subagent" / "trusted-folders.json").exists()
    trusted = site.subagent("trust", str(site.workspace))  # no placeholder left in the user's way
    assert trusted.returncode == 0, trusted.stderr


def test_the_policy_keeps_what_each_root_takes_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, ws = tmp_path / "home", tmp_path / "ws"
    (home / ".config" / "gh").mkdir(parents=True)
    (home / ".config" / "subagent").mkdir()
    ws.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home / ".claude"))  # missing: made empty, then hidden

    policy = build_policy(workspace=ws, extra_roots=[home / ".config"], home=home)

    assert policy.rule_for(home / ".config" / "gh" / "hosts.yml").level == "hidden"
    assert policy.rule_for(home / ".config" / "subagent" / "config.yaml").level == "hidden"
    assert policy.rule_for(home / ".config" / "mytool" / "x").level == "write"  # what was granted
    whole = build_policy(workspace=ws, extra_roots=[home], home=home)
    assert whole.rule_for(home / ".claude" / "settings.json").level == "hidden"
    assert (
        home / ".claude"
    ).stat().st_mode & 0o777 == 0o700  # a folder the user may write, not a placeholder
    chosen = build_policy(workspace=ws, extra_roots=[home / ".config" / "subagent"], home=home)
    assert chosen.rule_for(home / ".config" / "subagent" / "config.yaml").level == "write"  # asked for it


PLANTED = {
    ".netrc": "machine github.com login attacker password planted\n",
    ".gitconfig": "[core]\n\tfsmonitor = touch /var/tmp/pwned-by-gitconfig\n",
    ".config/gh/hosts.yml": "github.com:\n  oauth_token: attacker\n",
    ".cargo/credentials.toml": "[registry]\ntoken = 'attacker'\n",
}

TOOLS = "mkdir -p ~/.cache/pip ~/.local/bin && touch ~/.cache/pip/x ~/.local/bin/t"
"""What pip and the user's own tools make in a fresh HOME: beside `~/.cache/huggingface` and
`~/.local/share/keyrings`, both credentials."""


@pytest.mark.bwrap
def test_an_added_home_never_lets_bash_create_a_credential_that_did_not_exist(site: Site) -> None:
    """HOME added as a root, with no `~/.netrc`, `~/.gitconfig`, `~/.config/gh` nor `~/.cargo` yet:
    bash makes each of them, which the user's git, curl, gh and cargo would then trust outside the
    sandbox (a `core.fsmonitor` runs with every `git status`). Each missing credential stands as an
    empty read-only placeholder for the length of the call, and is gone after it; the folders on
    its way (`~/.cargo`, `~/.cache`) are the user's ordinary ones, where bash makes its caches
    (`~/.cache/pip`, `~/.local/bin`). The control: the same commands, as the user, create them all."""
    script = "; ".join(
        f"mkdir -p {(site.home / rel).parent} && printf %s {json.dumps(text)} > {site.home / rel}"
        for rel, text in PLANTED.items()
    )
    replies = [
        sse.reply(
            sse.tool_block(0, "toolu_0", "bash", {"command": script + f"; {TOOLS}; ls -a ~ ~/.config"}),
            stop_reason="tool_use",
        ),
        sse.reply(sse.text_block(0, "Done.")),
    ]
    with MessagesServer(replies) as server:
        done = site.subagent(
            "-p", "go", "--output-format", "stream-json", "--permission-mode", "bypassPermissions",
            "--add-dir", str(site.home),
            ANTHROPIC_API_KEY=API_KEY_CANARY, ANTHROPIC_BASE_URL=server.url, timeout=180,
        )  # fmt: skip

    assert done.returncode == 0, done.stderr[-2000:]
    assert "toolu_0" in json.dumps(server.requests)  # bash did run
    made = [rel for rel in PLANTED if (site.home / rel).exists() or (site.home / rel).is_symlink()]
    assert made == [], done.stdout[-3000:]
    assert not (site.home / ".config" / "gh").exists() and list((site.home / ".cargo").iterdir()) == []
    assert (site.home / ".cache" / "pip" / "x").is_file() and (site.home / ".local" / "bin" / "t").is_file()
    config = site.shell("git config --global --get core.fsmonitor; echo rc=$?")  # nothing in git's way
    assert "rc=1" in config.stdout and "fatal" not in config.stderr, config
    control = site.shell(script)
    assert control.returncode == 0 and [rel for rel in PLANTED if not (site.home / rel).is_file()] == []
