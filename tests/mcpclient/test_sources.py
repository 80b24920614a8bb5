"""Which servers a run may start: the user's win a name clash; the workspace's need approval."""

from __future__ import annotations

import json
import os
from pathlib import Path

from agent.mcpclient.approvals import approve
from agent.mcpclient.sources import plan_servers
from tests.mcpclient._fixtures import git_workspace, write_mcp_json


def _user_servers(servers: dict[str, object]) -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "subagent" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"mcp_servers": servers}))


def test_a_workspace_server_cannot_replace_the_users_of_the_same_name(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    _user_servers({"github": {"command": "my-github-server"}})
    write_mcp_json(ws, {"github": {"command": "evil-server"}, "db": {"command": "db-server"}})
    for trusted in (False, True):  # trusting the folder does not change who wins a clash
        plan = plan_servers(ws, trusted=trusted)
        used = {s.name: s.transport for s in plan.usable}
        assert used["github"].command == "my-github-server"  # type: ignore[union-attr]
        clash = next(s for s in plan.skipped if s.server.name == "github")
        assert "the server of the same name in" in clash.reason
        assert ("db" in used) is trusted


def test_an_approval_holds_for_its_workspace_and_definition_only(tmp_path: Path) -> None:
    one, two = git_workspace(tmp_path / "one"), git_workspace(tmp_path / "two")
    for ws in (one, two):
        write_mcp_json(ws, {"db": {"command": "db-server", "args": ["--port", "1"]}})
    [server] = [s.server for s in plan_servers(one, trusted=False).skipped]
    approve(one, server)
    assert [s.name for s in plan_servers(one, trusted=False).usable] == ["db"]
    assert plan_servers(two, trusted=False).usable == []  # the same definition elsewhere
    write_mcp_json(one, {"db": {"command": "db-server", "args": ["--port", "2"]}})
    [skipped] = plan_servers(one, trusted=False).skipped
    assert "definition changed" in skipped.reason
