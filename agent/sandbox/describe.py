"""The bash sandbox's policy in words, for `subagent doctor`: what bash may see and take here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agent.paths import data_home
from agent.registry.schema import SandboxConfig
from agent.sandbox import _landlock, _seccomp
from agent.sandbox._cgroup import memory_cgroup_parent
from agent.sandbox.policy import DEFAULT_HOME_VISIBLE, policy_for


@dataclass(frozen=True, eq=False, repr=False)
class PolicyLine:
    """One fact of the policy."""

    name: str
    detail: str


def _shown(path: Path, workspace: Path) -> str:
    return str(path.relative_to(workspace)) if path.is_relative_to(workspace) else str(path)


def describe_policy(config: SandboxConfig, workspace: Path) -> list[PolicyLine]:
    """What the policy of a run in `workspace` is, and which kernel features enforce it here."""
    workspace = Path(os.path.realpath(workspace))
    policy = policy_for(config, workspace, data_dir=data_home())
    home = Path(os.path.realpath(Path.home()))
    visible = [rel for rel in (*DEFAULT_HOME_VISIBLE, *config.home_visible) if (home / rel).exists()]
    protected = [
        _shown(r.path, workspace)
        for r in policy.rules
        if r.level == "read" and policy.rule_for(r.path.parent).level == "write"
    ]
    arch = _seccomp.native_arch()
    cgroup = memory_cgroup_parent()
    return [
        PolicyLine("sandbox: writable", ", ".join(str(p) for p in policy.writable_roots)),
        PolicyLine(
            "sandbox: home",
            f"{home} is bash's own empty folder; readable toolchain folders here: "
            f"{', '.join(visible) or 'none'} (add more: sandbox.home_visible)",
        ),
        PolicyLine("sandbox: protected", "read-only in the workspace: " + ", ".join(protected)),
        PolicyLine(
            "sandbox: seccomp",
            "not available on this architecture"
            if arch is None
            else "refuses the kernel keyring, io_uring and other ABIs' syscalls",
        ),
        PolicyLine(
            "sandbox: sockets",
            "unix sockets outside the workspace are covered per call; "
            + (
                "abstract sockets are scoped by Landlock with network on"
                if _landlock.can_scope_abstract_sockets()
                else "with network on, no Landlock scope here: AF_UNIX sockets are refused"
            ),
        ),
        PolicyLine(
            "sandbox: memory",
            f"{config.max_memory_mb} MB per process (RLIMIT_DATA); "
            + (
                f"per call in a memory cgroup under {cgroup}"
                if cgroup is not None
                else "no memory cgroup can be made here (needs a writable cgroup v1 memory controller): "
                "shared mappings are not capped; run subagent in `systemd-run --user --scope -p "
                "MemoryMax=...` to cap it as a whole"
            ),
        ),
        PolicyLine(
            "sandbox: disk",
            f"/tmp and /dev/shm {config.tmp_size_mb} MB each, files up to "
            f"{config.max_file_mb} MB (RLIMIT_FSIZE)",
        ),
    ]
