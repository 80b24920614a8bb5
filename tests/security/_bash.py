"""bash through `subagent run` for the escape suite: in bypass mode, and in default mode with bash
allowed by the workspace's config (headless asks are denied, so it must be allowed). A redirect
is an edit of its target, so edits are allowed too, and so are paths outside the workspace (`~/x`):
what is tested is the sandbox, not the rules.

`workspace_config` is the one place that says how bash is allowed in default mode: an untrusted
workspace's config may only tighten, so the workspace is trusted first (`subagent trust`). The
`sandbox:` limits only tighten, so they apply untrusted too (bypass mode).
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.security.attacker import Call, Outcome, Site, ToolAnswer

MODES = ("bypass", "default")


def workspace_config(site: Site, mode: str, sandbox: dict[str, Any] | None = None) -> None:
    """The workspace's `.subagent/config.yaml`: bash allowed in default mode, sandbox limits."""
    config: dict[str, Any] = {}
    if mode == "default":
        config["permission"] = {"bash": "allow", "edit": "allow", "external_directory": "allow"}
        trusted = site.subagent("trust", str(site.workspace))
        assert trusted.returncode == 0, trusted.stderr
    if sandbox:
        config["defaults"] = {"sandbox": sandbox}
    if config:
        site.write("project/.subagent/config.yaml", yaml.safe_dump(config))


def bash_run(
    site: Site, commands: list[str], mode: str, sandbox: dict[str, Any] | None = None, **env: str
) -> Outcome:
    """One `subagent run` making one bash call per command, in turn; the run must succeed."""
    workspace_config(site, mode, sandbox)
    outcome = site.run([[Call("bash", {"command": command})] for command in commands], mode=mode, **env)
    assert outcome.returncode == 0, outcome.stderr[-3000:]
    return outcome


def answers(outcome: Outcome) -> list[ToolAnswer]:
    """Each bash call's answer; every one must have run (not been refused by a permission)."""
    for answer in outcome.results:
        assert "permission" not in answer.text.lower() or "exit code" in answer.text, answer.text
    return outcome.results
