"""`subagent doctor` reports the bash sandbox's policy for a run in the current folder."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import run_subagent


def test_doctor_reports_the_policy(tmp_path: Path, fake_home: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    subprocess.run(["git", "-C", str(workspace), "config", "core.hooksPath", ".husky/_"], check=True)
    (fake_home / ".cargo" / "bin").mkdir(parents=True)
    (workspace / ".subagent").mkdir()
    (workspace / ".subagent" / "config.yaml").write_text(
        "defaults:\n  sandbox:\n    tmp_size_mb: 64\n    max_file_mb: 100\n    home_visible: [.mytool]\n"
    )
    (fake_home / ".mytool").mkdir()
    trusted = run_subagent("trust", str(workspace), HOME=str(fake_home))  # home_visible widens
    assert trusted.returncode == 0, trusted.stderr
    result = run_subagent("doctor", "--json", cwd=workspace, HOME=str(fake_home))
    lines = {c["name"]: c["detail"] for c in json.loads(result.stdout)}
    assert str(workspace.resolve()) in lines["sandbox: writable"]
    assert ".cargo/bin" in lines["sandbox: home"] and ".mytool" in lines["sandbox: home"]
    assert ".husky/_" in lines["sandbox: protected"] and ".git/hooks" in lines["sandbox: protected"]
    assert "keyring" in lines["sandbox: seccomp"]
    assert "64 MB" in lines["sandbox: disk"] and "100 MB" in lines["sandbox: disk"]
    assert "RLIMIT_DATA" in lines["sandbox: memory"]
