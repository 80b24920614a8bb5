"""The probe runs bubblewrap for real; the factory refuses a broken sandbox unless opted out."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import SandboxUnavailableError
from agent.registry.schema import SandboxConfig
from agent.sandbox.bwrap import BwrapSandbox
from agent.sandbox.probe import _probe, make_sandbox, probe_sandbox
from agent.sandbox.unsandboxed import UnsandboxedRunner
from tests.sandbox.conftest import policy


@pytest.mark.bwrap
def test_probe_reports_every_feature_working() -> None:
    report = probe_sandbox()
    assert report.ok and report.fix == ""
    assert report.pid_namespace and report.network_isolation
    assert report.version.startswith("bubblewrap")
    assert probe_sandbox() is report  # cached per process


def test_missing_bwrap_says_how_to_fix(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> None:
    monkeypatch.setenv("PATH", str(workspace))  # an empty folder: no bwrap on PATH
    report = probe_sandbox()
    assert not report.ok and "not installed" in report.detail
    assert "apt-get install bubblewrap" in report.fix and "kind: none" in report.fix
    with pytest.raises(SandboxUnavailableError, match="apt-get install bubblewrap"):
        make_sandbox(SandboxConfig(), policy(workspace), network=False)


def test_refused_namespaces_say_how_to_fix(workspace: Path) -> None:
    fake = workspace / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    report = _probe(str(fake))
    assert not report.ok and "uid map: Permission denied" in report.detail
    assert "unprivileged_userns_clone" in report.fix and not report.user_namespace


def test_kind_none_needs_no_bwrap(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> None:
    monkeypatch.setenv("PATH", str(workspace))
    config = SandboxConfig(kind="none", max_memory_mb=1000, env=["X"])
    sandbox = make_sandbox(config, policy(workspace, config), False)
    assert isinstance(sandbox, UnsandboxedRunner) and sandbox.name == "none"
    assert sandbox.limits.max_memory_mb == 1000 and sandbox.env_extra == ("X",)


@pytest.mark.bwrap
async def test_make_sandbox_builds_a_working_bwrap(workspace: Path, tmp_path: Path) -> None:
    extra = tmp_path / "shared"
    extra.mkdir()
    config = SandboxConfig(extra_roots=[str(extra)])
    sandbox = make_sandbox(config, policy(workspace, config), network=False)
    assert isinstance(sandbox, BwrapSandbox) and sandbox.name == "bwrap"
    result = await sandbox.run(f"echo a > {extra}/f && echo b > f", cwd=workspace, timeout_s=10)
    assert result.exit_code == 0 and (extra / "f").read_text() == "a\n"


@pytest.mark.bwrap
async def test_runtime_data_dir_is_hidden(workspace: Path) -> None:
    from agent.paths import data_home

    (data_home() / "sessions").mkdir(parents=True)
    (data_home() / "sessions" / "s.jsonl").write_text("transcript")
    sandbox = make_sandbox(SandboxConfig(), policy(workspace), network=False)
    command = f"cat {data_home()}/sessions/s.jsonl; ls -A {data_home()}"
    result = await sandbox.run(command, cwd=workspace, timeout_s=10)
    assert "transcript" not in result.output and "sessions" not in result.output.split("\n")


@pytest.mark.bwrap
async def test_workspace_inside_the_data_dir_stays_writable() -> None:
    from agent.paths import data_home

    worktree = data_home() / "worktrees" / "child"
    worktree.mkdir(parents=True)
    (data_home() / "secret.db").write_text("sessions")
    sandbox = make_sandbox(SandboxConfig(), policy(worktree), network=False)
    result = await sandbox.run(f"echo ok > f && cat {data_home()}/secret.db", cwd=worktree, timeout_s=10)
    assert (worktree / "f").read_text() == "ok\n" and "sessions" not in result.output
    outer = data_home().parent  # a workspace holding the data dir
    inside = make_sandbox(SandboxConfig(), policy(outer), network=False)
    command = f"touch y && cat {data_home()}/secret.db; touch {data_home()}/x"
    result = await inside.run(command, cwd=outer, timeout_s=10)
    assert (outer / "y").exists() and "sessions" not in result.output
    assert not (data_home() / "x").exists()


@pytest.mark.bwrap
async def test_network_true_keeps_the_host_network(workspace: Path) -> None:
    sandbox = make_sandbox(SandboxConfig(), policy(workspace), network=True)
    result = await sandbox.run("cat /proc/net/dev | tail -n +3 | cut -d: -f1", cwd=workspace, timeout_s=10)
    closed = await make_sandbox(SandboxConfig(), policy(workspace), network=False).run(
        "cat /proc/net/dev | tail -n +3 | cut -d: -f1", cwd=workspace, timeout_s=10
    )
    assert closed.output.split() == ["lo"] and result.output.split() != ["lo"]
