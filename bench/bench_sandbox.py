"""The cost of the sandbox per bash call: the policy's sandbox, today's (pre-policy) bubblewrap
argv, and `true` run directly, alternating call by call in one run.

All three go through the same process machinery (`run_process`: new session, cwd pipe, rlimits,
group kill). The reference argv is the one bubblewrap got before the policy (read-only `/`, a
private /tmp and /run, the roots bound, `.git` guards, a list of secrets in HOME hidden), rebuilt
here for the comparison only. The policy's call adds per-call work on top: mounts worked out
afresh (placeholders, watched paths, /proc/net/unix), the seccomp pipe, size-limited tmpfs, and
where one can be had a memory cgroup (a fork path with a pre-exec step instead of vfork, and the
kernel's cgroup attach); the same sandbox without the cgroup is measured too. Prints
JSON lines `{"name", "value", "reference", "ratio"}`, milliseconds per call.

    /work/venv/bin/python bench/bench_sandbox.py [N]
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agent.sandbox._env import scrub_env
from agent.sandbox.base import ExecResult
from agent.sandbox.bwrap import BwrapSandbox
from agent.sandbox.policy import build_policy
from agent.sandbox.process import ProcessLimits, run_process
from agent.sandbox.unsandboxed import UnsandboxedRunner
from bench._figures import emit

_OLD_SECRETS = (
    ".ssh",
    ".aws",
    ".config/gcloud",
    ".gnupg",
    ".kube",
    ".docker",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".cargo/credentials.toml",
    ".claude",
    ".bash_history",
)


class _PrePolicySandbox:
    """The argv bubblewrap got before the policy, for the comparison."""

    def __init__(self, workspace: Path, home: Path) -> None:
        self.workspace, self.home, self.bwrap = workspace, home, shutil.which("bwrap") or "bwrap"

    def argv(self, command: list[str], cwd: Path) -> list[str]:
        args = [
            self.bwrap,
            "--die-with-parent",
            "--new-session",
            "--unshare-pid",
            "--unshare-ipc",
            "--cap-drop",
            "ALL",
            "--unshare-user",
            "--disable-userns",
            "--unshare-net",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
            "--tmpfs",
            "/run",
            "--bind",
            str(self.workspace),
            str(self.workspace),
        ]
        git = self.workspace / ".git"
        args += ["--bind", str(git), str(git)]
        args += [a for name in ("hooks", "config") for a in ("--ro-bind", str(git / name), str(git / name))]
        for rel in _OLD_SECRETS:
            path = self.home / rel
            if path.is_dir():
                args += ["--tmpfs", str(path), "--remount-ro", str(path)]
            elif path.exists():
                args += ["--dev-bind", "/dev/null", str(path)]
        return [*args, "--chdir", str(cwd), "--", *command]

    async def run(self, command: str, *, cwd: Path, timeout_s: float) -> ExecResult:
        return await run_process(
            command,
            wrap=lambda bash: self.argv(bash, cwd),
            env=scrub_env(os.environ, home=str(self.home)),
            cwd=cwd,
            timeout_s=timeout_s,
            limits=ProcessLimits(),
            orphan_watch=False,
        )


async def _call_ms(runner: UnsandboxedRunner | BwrapSandbox | _PrePolicySandbox, cwd: Path) -> float:
    started = time.perf_counter()
    result = await runner.run("true", cwd=cwd, timeout_s=30)
    assert result.exit_code == 0, result.output
    return (time.perf_counter() - started) * 1000


def _site(folder: Path) -> tuple[Path, Path]:
    """A HOME with a few toolchain folders and secrets, and a git workspace in it."""
    home = folder / "home"
    for rel in (".cargo/bin", ".rustup", ".npm", ".ssh", ".aws", ".config/gh"):
        (home / rel).mkdir(parents=True)
    workspace = home / "project"
    workspace.mkdir()
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    return home, workspace


async def main(n: int) -> None:
    """Alternate the runners call by call, so background load hits them alike."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as folder:
        home, workspace = _site(Path(folder))
        policy = build_policy(workspace=workspace, home=home, data_dir=home / ".local/share/subagent")
        runners = {
            "direct": UnsandboxedRunner(),
            "before": _PrePolicySandbox(workspace, home),
            "policy": BwrapSandbox(policy, home=home),
            "no_cgroup": BwrapSandbox(policy, home=home, cgroup=False),
        }
        times: dict[str, list[float]] = {name: [] for name in runners}
        for i in range(n + 1):
            for name, runner in runners.items():
                ms = await _call_ms(runner, workspace)
                if i:  # the first round warms caches
                    times[name].append(ms)
    direct, before, now, no_cgroup = (
        statistics.median(times[name]) for name in ("direct", "before", "policy", "no_cgroup")
    )
    emit(
        "bash true, the policy's sandbox (median ms/call)",
        now,
        before,
        unit="ms",
        reference_name="the same call with the pre-policy bubblewrap argv",
        digits=2,
    )
    emit(
        "ms added per call by the sandbox",
        now - direct,
        15.0,
        unit="ms",
        reference_name="the aim",
        aim="<= 1",
        digits=2,
    )
    emit(
        "ms added per call by the policy",
        now - before,
        before - direct,
        unit="ms",
        reference_name="ms the pre-policy sandbox added",
        digits=2,
    )
    emit(
        "ms added per call by the memory cgroup",
        now - no_cgroup,
        now - direct,
        unit="ms",
        reference_name="ms the sandbox adds",
        note="0 where no cgroup can be made",
        digits=2,
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
