"""Does the sandbox work here? A real bubblewrap run per feature, and the factory bash uses.

`subagent doctor` prints the report (probing afresh); `make_sandbox` refuses to hand out a
sandbox that does not work, saying why and how to fix it, unless the user chose `sandbox: {kind:
none}`. A working report is remembered for the same bubblewrap, kernel and boot
(agent.sandbox._probe_cache), so a run does not pay five bubblewrap starts before its first
request.
"""

import functools
import shutil
import subprocess
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from agent.errors import SandboxUnavailableError
from agent.registry.schema import SandboxConfig
from agent.sandbox.base import Sandbox
from agent.sandbox.bwrap import BwrapSandbox
from agent.sandbox.policy import FsPolicy
from agent.sandbox.process import ProcessLimits
from agent.sandbox.unsandboxed import UnsandboxedRunner

_BASE = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--die-with-parent"]
_OPT_OUT = "or run bash unsandboxed by setting `sandbox: {kind: none}` under `defaults:` in agents.yaml"
_USERNS_FIX = (
    "allow unprivileged user namespaces: `sudo sysctl -w kernel.unprivileged_userns_clone=1` (Debian), "
    "`sudo sysctl -w user.max_user_namespaces=15000`, on Ubuntu 24.04+ "
    "`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`; in a container, start it with "
    "`--security-opt seccomp=unconfined --security-opt apparmor=unconfined`; " + _OPT_OUT
)


class SandboxReport(BaseModel):
    """What works here, from real bubblewrap runs."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    ok: bool
    detail: str
    """What was found, in a sentence or two."""
    fix: str
    """How to make it work; empty when it works."""
    bwrap_path: str | None = None
    version: str = ""
    user_namespace: bool = False
    """bwrap --unshare-user works (needed unless bwrap is setuid or we run as root)."""
    pid_namespace: bool = False
    network_isolation: bool = False
    """In --unshare-net only the loopback interface exists."""
    disable_userns: bool = False
    """--disable-userns works: no nested user namespaces inside the sandbox."""


def _run(bwrap: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [bwrap, *args], capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL
    )


def _probe_features(bwrap: str, version: str) -> SandboxReport:
    userns = _run(bwrap, ["--unshare-user", *_BASE, "true"])
    ns = ["--unshare-user"] if userns.returncode == 0 else []
    pid = _run(bwrap, [*ns, "--unshare-pid", *_BASE, "/bin/sh", "-c", "echo $$"])
    net = _run(bwrap, [*ns, "--unshare-net", *_BASE, "cat", "/proc/net/dev"])
    nested = _run(bwrap, [*ns, "--disable-userns", *_BASE, "true"]) if ns else None
    interfaces = [line.split(":")[0].strip() for line in net.stdout.splitlines()[2:]]
    report = {
        "bwrap_path": bwrap,
        "version": version,
        "user_namespace": userns.returncode == 0,
        "pid_namespace": pid.returncode == 0 and pid.stdout.strip() in {"1", "2", "3"},
        "network_isolation": net.returncode == 0 and interfaces == ["lo"],
        "disable_userns": nested is not None and nested.returncode == 0,
    }
    if report["pid_namespace"] and report["network_isolation"]:
        how = "with user namespaces" if ns else "without user namespaces (setuid bwrap or root)"
        return SandboxReport(ok=True, detail=f"{version} works {how}", fix="", **report)
    reason = (userns.stderr or pid.stderr or net.stderr).strip().splitlines()
    why = reason[-1] if reason else "no error message"
    return SandboxReport(
        ok=False,
        fix=_USERNS_FIX,
        **report,
        detail=f"{bwrap} cannot create the sandbox's namespaces here: {why}",
    )


@functools.cache
def _probe(bwrap: str | None) -> SandboxReport:
    if bwrap is None:
        return SandboxReport(
            ok=False,
            detail="bubblewrap (`bwrap`) is not installed or not on PATH",
            fix="install it: `sudo apt-get install bubblewrap` (Debian, Ubuntu), `sudo dnf install "
            f"bubblewrap` (Fedora), `sudo pacman -S bubblewrap` (Arch); {_OPT_OUT}",
        )
    version = _run(bwrap, ["--version"]).stdout.strip() or "bubblewrap"
    return _probe_features(bwrap, version)


@functools.cache
def _known(bwrap: str | None) -> SandboxReport:
    """The report kept for this bubblewrap here, else a real probe (kept when it works)."""
    from agent.sandbox import _probe_cache

    if bwrap is None:
        return _probe(None)
    if (kept := _probe_cache.load(bwrap)) is not None:
        return kept
    report = _probe(bwrap)
    _probe_cache.store(bwrap, report)
    return report


def probe_sandbox(*, fresh: bool = False) -> SandboxReport:
    """What works here: the report kept for this bubblewrap, kernel and boot, or (with `fresh`, or
    none kept) bubblewrap run for real. Cached per process (and per bwrap path)."""
    bwrap = shutil.which("bwrap")
    if not fresh:
        return _known(bwrap)
    from agent.sandbox import _probe_cache

    _probe.cache_clear()
    _known.cache_clear()
    report = _probe(bwrap)
    if bwrap is not None:
        _probe_cache.store(bwrap, report)
    return report


def make_sandbox(
    config: SandboxConfig, policy: FsPolicy, network: bool, *, home: Path | None = None
) -> Sandbox:
    """The sandbox bash runs in, as configured, enforcing the run's `policy`.

    Raises:
        SandboxUnavailableError: bubblewrap is missing or refused and the user did not opt out.
    """
    limits = ProcessLimits(
        max_processes=config.max_processes, max_memory_mb=config.max_memory_mb, max_file_mb=config.max_file_mb
    )
    if config.kind == "none":
        return UnsandboxedRunner(env_extra=config.env, limits=limits)
    report = probe_sandbox()
    if not report.ok:
        raise SandboxUnavailableError(f"the bash sandbox cannot run: {report.detail}. To fix: {report.fix}")
    return BwrapSandbox(
        policy,
        network=network,
        home=home,
        limits=limits,
        env_extra=config.env,
        tmp_size_mb=config.tmp_size_mb,
        bwrap=report.bwrap_path,
        user_namespace=report.user_namespace,
        disable_nested_userns=report.disable_userns,
    )
