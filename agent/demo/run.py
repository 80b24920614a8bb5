"""The offline demo: the orchestrator sends two backend tasks to two subagents in parallel.

The model's replies are scripted (`agent/demo/script.yaml`); everything else is the real runtime:
the registry and personas, the tools, the sandbox, the permission gate, the worktrees, the merge
back, verify. The sample service (`agent/demo/sample/`) is copied into a fresh folder that is
made a git repository with one commit, so the final `git diff` shows exactly what the agents did.
"""

import asyncio
import dataclasses
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agent.hostgit.layout import read_layout
from agent.hostgit.runner import init_repository, run_git
from agent.hostgit.view import repository_view

if TYPE_CHECKING:
    from rich.console import Console

DEMO_DIR = Path(__file__).resolve().parent
SAMPLE = DEMO_DIR / "sample"
SCRIPT = DEMO_DIR / "script.yaml"
TEST_COMMAND = "python3 -m unittest discover -s tests -q"
PROMPT = (
    "Two changes to the inventory service: (1) a POST /items endpoint with input validation and "
    "tests; (2) a migration adding items.created_at and an index on items(name), with a test. "
    "Delegate them to backend engineers in parallel, then check the merged result."
)
# accept-edits lets the file tools write; the rules allow reading, delegating and the test
# command only, so any other bash command would be an ask, which the headless demo refuses.
_CONFIG = f"""# Written by `subagent demo` (see agent/demo/run.py).
defaults:
  permission_mode: accept-edits
{{sandbox}}permission:
  read: allow
  grep: allow
  glob: allow
  task: allow
  bash:
    "*": ask
    "{TEST_COMMAND.replace(" discover -s tests -q", " *")}": allow
agents:
  backend-engineer:
    verify: {TEST_COMMAND}
"""
_GIT_IDENTITY = ("demo", "demo@subagent.invalid")


class DemoOutcome(BaseModel):
    workspace: Path
    subtype: str
    tasks_failed: int
    """`task` calls that did not come back verified and merged."""
    tests_passed: bool
    tests_output: str
    diff: str
    turns: int
    input_tokens: int
    output_tokens: int
    seconds: float

    @property
    def ok(self) -> bool:
        merged = not self.tasks_failed and bool(self.diff)
        return self.subtype == "success" and self.tests_passed and merged


def _git(workspace: Path, *args: str) -> str:
    """git on the demo's repository, read through a view: the agents worked in it (agent.hostgit)."""
    with repository_view(read_layout(workspace)) as view:
        done = run_git(dataclasses.replace(view, identity=_GIT_IDENTITY), *args)
    return done.stdout.decode(errors="replace")


def prepare_workspace(target: Path | None, sandboxed: bool) -> Path:
    """Copy the sample into `target` (default: a new temporary folder) and commit it."""
    workspace = target or Path(tempfile.mkdtemp(prefix="subagent-demo-"))
    workspace.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        SAMPLE, workspace, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.db")
    )
    init_repository(workspace, bare=False)
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "--quiet", "-m", "sample service")
    (workspace / ".git" / "info").mkdir(exist_ok=True)
    (workspace / ".git" / "info" / "exclude").write_text(".subagent/\n__pycache__/\n*.db\n")
    config = workspace / ".subagent" / "config.yaml"
    config.parent.mkdir(exist_ok=True)
    sandbox = "" if sandboxed else "  sandbox: {kind: none}   # bubblewrap does not work here\n"
    config.write_text(_CONFIG.format(sandbox=sandbox))
    return workspace


def _script_model(fast: bool) -> Any:
    from agent.model.scripted import ScriptedModel, load_script

    script = load_script(SCRIPT)
    if fast:
        for entry in script.scripts:
            for reply in entry.replies:
                reply.delay_s = 0.0
    return ScriptedModel(script, str(SCRIPT))


async def run_demo(
    console: "Console",
    *,
    workdir: Path | None = None,
    fast: bool = False,
    cancel: asyncio.Event | None = None,
) -> DemoOutcome:
    """Run the demo with a live view on `console`; returns what happened for the summary.

    `cancel` set (Ctrl-C) stops the run as it stops `subagent run`: the run's summary is shown
    and the session stored as cancelled; the merged tree is then neither diffed nor tested.
    """
    from rich.markup import escape

    from agent.api import run_events
    from agent.runtime.options import RunOptions
    from agent.sandbox.probe import probe_sandbox
    from agent.terminal.render import EventRenderer
    from agent.terminal.safe_text import for_terminal

    report = probe_sandbox()
    detail, fix = escape(for_terminal(report.detail)), escape(for_terminal(report.fix))
    if not report.ok:
        console.print(
            f"[bold red]WARNING: bash runs UNSANDBOXED in this demo[/]: {detail}.\nTo sandbox it: {fix}"
        )
    workspace = prepare_workspace(workdir, report.ok)
    where = escape(for_terminal(str(workspace), name=True, one_line=True))
    console.print(f"[bold]subagent demo[/] · scripted model replies, real tools · workspace {where}")
    console.print(f"[dim]sandbox: {detail if report.ok else 'none'}[/]\n")
    renderer = EventRenderer(console)
    started = time.monotonic()
    final: Any = None
    turns = tokens_in = tokens_out = failed = 0
    model = _script_model(fast)
    # The demo wrote the workspace's config itself: it is trusted (its permission_mode and verify apply).
    options = RunOptions(
        prompt=PROMPT, agent="orchestrator", cwd=workspace, model_client=model, trust=True, cancel=cancel
    )
    async for event in run_events(options):
        renderer.handle(event)
        if event.type == "tool_call_finished" and event.name == "task":
            failed += event.is_error
        if event.type == "result":
            turns += event.num_turns
            tokens_in += event.usage.context_tokens
            tokens_out += event.usage.output_tokens
            if event.parent_tool_use_id is None:
                final = event
    seconds = time.monotonic() - started
    if final is not None and final.subtype == "cancelled":
        renderer.summary(final)
        return DemoOutcome(
            workspace=workspace, subtype=final.subtype, tasks_failed=failed, tests_passed=False,
            tests_output="", diff="", turns=turns, input_tokens=tokens_in, output_tokens=tokens_out,
            seconds=seconds,
        )  # fmt: skip
    _git(workspace, "add", "-A", "-N")
    diff = _git(workspace, "diff", "--no-color", "--", ".", ":!.subagent")
    tests = subprocess.run(
        [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-q"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return DemoOutcome(
        workspace=workspace,
        subtype=final.subtype if final else "error_during_execution",
        tasks_failed=failed,
        tests_passed=tests.returncode == 0,
        tests_output=(tests.stdout + tests.stderr).strip(),
        diff=diff,
        turns=turns,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        seconds=seconds,
    )


def print_summary(console: "Console", outcome: DemoOutcome) -> None:
    """The diff, the tests, turns, tokens and time."""
    from rich.rule import Rule
    from rich.syntax import Syntax
    from rich.text import Text

    from agent.terminal.safe_text import for_terminal

    where = for_terminal(str(outcome.workspace), name=True, one_line=True)
    if outcome.subtype == "cancelled":
        console.print(f"workspace kept at {where} (`git -C {where} diff`)", markup=False)
        return
    console.print(Rule("what changed"))
    console.print(
        Syntax(
            for_terminal(outcome.diff) or "(no changes)",
            "diff",
            theme="ansi_dark",
            background_color="default",
            word_wrap=True,
        )
    )
    console.print(Rule("tests on the merged tree"))
    last = " ".join(line.strip() for line in outcome.tests_output.splitlines()[-3:] if line.strip())
    style = "green" if outcome.tests_passed else "bold red"
    verdict = f"{TEST_COMMAND}: {'passed' if outcome.tests_passed else 'FAILED'}"
    console.print(Text.assemble((verdict, style), f" ({for_terminal(last, one_line=True)})"))
    if outcome.tasks_failed:
        console.print(f"[bold red]{outcome.tasks_failed} subagent task(s) failed[/]: see above")
    console.print(Rule("summary"))
    status = outcome.subtype if outcome.ok else f"FAILED ({outcome.subtype})"
    console.print(
        f"{status} · {outcome.turns} model turns (orchestrator + 2 subagents) · "
        f"{outcome.input_tokens} tokens in · {outcome.output_tokens} out (scripted: no API cost) · "
        f"{outcome.seconds:.1f}s\nworkspace kept at {where} (`git -C {where} diff`)\n"
        "These were scripted model replies; with ANTHROPIC_API_KEY set, `subagent run` runs the real thing.",
        markup=False,
    )
