"""Which servers a run may start: the user's win a name clash; the workspace's need approval."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.mcpclient.approvals import approvals_file, approve
from agent.mcpclient.config import ServerDef
from agent.mcpclient.listing import ServerListing, cached_listing, listing_file, save_listing
from agent.mcpclient.sources import plan_servers
from agent.paths import trusted_folders_file as trusted_file
from agent.trust.store import set_trust
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


def test_approvals_are_the_users_alone_whatever_the_umask(tmp_path: Path) -> None:
    """The approvals decide which servers a later run starts: under a umask of 000, a world-writable
    file (or folder) would let another user of the machine approve a server for us. They are
    written 0600 in a folder made 0700, as the trusted folders are, whatever the umask; so is the
    cached listing of a server's tools (what the model is told of them before the server starts)."""
    ws, server = _approved_and_listed_under_umask_000(tmp_path / "ws")
    for path in (approvals_file(), trusted_file(), listing_file(ws, server)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, path.parent


def test_every_folder_made_on_the_way_is_private_and_others_writes_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mkdir(parents=True, mode=0o700)` gives the mode to the last folder only: under a umask of
    000 the config and data folders above it were 0777, and another user could swap the private
    folder in them. Every folder made on the way is 0700; and approvals or a listing in a file or
    folder another user can write are refused with the path and what to do, not trusted."""
    user = tmp_path / "user"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user / "config" / "nested"))
    monkeypatch.setenv("SUBAGENT_HOME", str(user / "share" / "subagent"))
    ws, server = _approved_and_listed_under_umask_000(tmp_path / "ws")
    made = [folder for folder in user.rglob("*") if folder.is_dir()]
    assert len(made) == 6 and all(stat.S_IMODE(f.stat().st_mode) == 0o700 for f in made), made
    assert cached_listing(ws, server) == ServerListing(tools=[])

    for culprit, mode in ((approvals_file(), 0o666), (approvals_file().parent, 0o777), (user, 0o757)):
        culprit.chmod(mode)
        with pytest.raises(ConfigError, match=f"{approvals_file()}: .*chmod go-w {culprit}"):
            plan_servers(ws, trusted=False)
        culprit.chmod(0o700 if culprit.is_dir() else 0o600)
    assert [s.name for s in plan_servers(ws, trusted=False).usable] == ["db"]
    listing = listing_file(ws, server)
    listing.chmod(0o622)
    with pytest.raises(ConfigError, match=f"{listing}: not read: it is writable by other users"):
        cached_listing(ws, server)
    listing.unlink()
    listing.symlink_to(approvals_file())
    with pytest.raises(ConfigError, match="it is a link"):
        cached_listing(ws, server)


def _approved_and_listed_under_umask_000(folder: Path) -> tuple[Path, ServerDef]:
    """A trusted workspace at `folder` whose one server is approved and its tools' listing kept
    (what the model is shown of them), all written under a umask of 000; it and the server."""
    ws = git_workspace(folder)
    write_mcp_json(ws, {"db": {"command": "db-server"}})
    [server] = [s.server for s in plan_servers(ws, trusted=False).skipped]
    before = os.umask(0)
    try:
        approve(ws, server)
        set_trust(ws, True)
        save_listing(ws, server, ServerListing(tools=[]))
    finally:
        os.umask(before)
    return ws, server
