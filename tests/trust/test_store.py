"""Trusted folders: `subagent trust` adds, lists and revokes; concurrent writers lose nothing."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.paths import trusted_folders_file
from agent.trust.store import is_trusted, read_trusted, set_trust
from tests.conftest import run_subagent, subagent_argv, subprocess_env


def test_trust_list_and_revoke_through_the_cli(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    assert not is_trusted(repo)
    done = run_subagent("trust", str(repo / "src"))  # a folder inside: the workspace is trusted
    assert done.returncode == 0, done.stderr
    assert f"trusted: {repo.resolve()}" in done.stdout
    assert is_trusted(repo) and not is_trusted(repo / "src")
    listed = run_subagent("trust", "--list", "--json")
    assert [row["folder"] for row in json.loads(listed.stdout)] == [str(repo.resolve())]
    assert "already trusted" in run_subagent("trust", cwd=repo / "src").stdout
    revoked = run_subagent("trust", "--revoke", str(repo))
    assert revoked.returncode == 0 and "no longer trusted" in revoked.stdout
    assert not is_trusted(repo)
    assert "no trusted folders" in run_subagent("trust", "--list").stdout


def test_trusting_says_what_the_folder_gains(tmp_path: Path) -> None:
    (tmp_path / ".subagent").mkdir()
    (tmp_path / ".subagent/config.yaml").write_text("defaults:\n  sandbox: {kind: none}\n")
    done = run_subagent("trust", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "defaults.sandbox.kind" in done.stdout


def test_a_damaged_file_is_named_and_left_as_it_is(tmp_path: Path) -> None:
    path = trusted_folders_file()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    done = run_subagent("trust", str(tmp_path))
    assert done.returncode == 2
    assert str(path) in done.stderr and "Traceback" not in done.stderr
    assert path.read_text() == "{not json"
    run = run_subagent("agents", "show", "explore", "--cwd", str(tmp_path))
    assert run.returncode == 2 and str(path) in run.stderr  # a run stops rather than guess


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    folders = [tmp_path / f"f{i}" for i in range(12)]
    for folder in folders:
        folder.mkdir()
    set_trust(folders[0], True)
    script = (
        "import sys; from pathlib import Path; from agent.trust.store import set_trust\n"
        "for _ in range(5):\n"
        "    set_trust(Path(sys.argv[1]), True); set_trust(Path(sys.argv[1]), False)\n"
        "set_trust(Path(sys.argv[1]), True)\n"
    )
    procs = [
        subprocess.Popen([*subagent_argv()[:1], "-c", script, str(f)], env=subprocess_env())
        for f in folders[1:]
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * len(procs)
    assert set(read_trusted().folders) == {str(f.resolve()) for f in folders}
    assert not list(trusted_folders_file().parent.glob("*.tmp"))  # no temporary file left behind


def test_the_store_is_made_private_and_not_read_where_others_can_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a umask of 000 every folder made on the way to the store is 0700 (not only the last);
    a store another user could have written (a folder above it writable by others) is refused, through
    the CLI too, with the path and what to do; no traceback."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user" / "config"))
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    before = os.umask(0)
    try:
        set_trust(repo, True)
    finally:
        os.umask(before)
    for folder in (tmp_path / "user", tmp_path / "user" / "config", trusted_folders_file().parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    (tmp_path / "user" / "config").chmod(0o777)
    with pytest.raises(ConfigError, match=f"chmod go-w {tmp_path / 'user' / 'config'}"):
        is_trusted(repo)
    listed = run_subagent("trust", "--list")
    assert listed.returncode != 0 and "Traceback" not in listed.stderr
    assert f"{trusted_folders_file()}: not read" in listed.stderr, listed.stderr
