"""The probe runs bubblewrap for real; the factory refuses a broken sandbox unless opted out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import SandboxUnavailableError
from agent.registry.schema import SandboxConfig
from agent.sandbox import _probe_cache
from agent.sandbox.bwrap import BwrapSandbox
from agent.sandbox.probe import SandboxReport, _probe, make_sandbox, probe_sandbox
from agent.sandbox.unsandboxed import UnsandboxedRunner
from tests.conftest import subprocess_env
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


def _counting_bwrap(folder: Path, log: Path) -> Path:
    """A bwrap on PATH that records each start and runs the real one."""
    real = shutil.which("bwrap")
    wrapper = folder / "bwrap"
    wrapper.write_text(f'#!/bin/sh\necho x >> "{log}"\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def _starts(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _probe_in_a_new_process() -> str:
    code = "from agent.sandbox.probe import probe_sandbox; print(probe_sandbox().ok)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=subprocess_env(), check=True).stdout.strip()  # fmt: skip


@pytest.mark.bwrap
def test_a_working_probe_is_kept_for_the_next_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder, log = tmp_path / "bin", tmp_path / "starts"
    folder.mkdir()
    wrapper = _counting_bwrap(folder, log)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    assert probe_sandbox(fresh=True).ok
    probing = _starts(log)
    assert probing >= 4 and _probe_cache.load(str(wrapper)) == probe_sandbox()
    assert _probe_in_a_new_process() == "True" and _starts(log) == probing  # read back, no bwrap started
    os.utime(wrapper, ns=(0, 0))  # another bubblewrap (or the same one reinstalled)
    assert _probe_cache.load(str(wrapper)) is None
    assert _probe_in_a_new_process() == "True" and _starts(log) == 2 * probing


def test_a_failing_probe_is_not_kept_and_drops_the_kept_one(
    monkeypatch: pytest.MonkeyPatch, workspace: Path
) -> None:
    fake = workspace / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(workspace))
    working = SandboxReport(ok=True, detail="works", fix="", bwrap_path=str(fake), user_namespace=True)
    _probe_cache.store(str(fake), working)
    assert _probe_cache.load(str(fake)) == working
    assert not probe_sandbox(fresh=True).ok
    assert not _probe_cache.cache_file().exists() and _probe_cache.load(str(fake)) is None


def test_a_damaged_or_foreign_record_is_not_believed(workspace: Path) -> None:
    fake = workspace / "bwrap"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    path = _probe_cache.cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert _probe_cache.load(str(fake)) is None
    fingerprint = {**_probe_cache.fingerprint(str(fake)), "kernel": "another kernel"}
    report = {"ok": True, "detail": "planted", "fix": "", "user_namespace": False}
    path.write_text(json.dumps({"fingerprint": fingerprint, "report": report}))
    assert _probe_cache.load(str(fake)) is None
    path.write_text(json.dumps({"fingerprint": _probe_cache.fingerprint(str(fake)), "report": report}))
    assert _probe_cache.load(str(fake)) is not None  # the control: the same record, fingerprint right
