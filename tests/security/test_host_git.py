"""The git the runtime runs on the host never runs what a repository configured (the attacker's seat).

Each test plants traps (tests/security/host_git_traps.py) the way an attacker can: through the
runtime's own tools in bypass mode where they still reach (the write tool, bash in the sandbox),
and as the user owning the files (a `git pull`, a repository as cloned, a path the mounts miss).
Then everything in the runtime that runs git does, as that user: a `subagent run` (the
environment block's status, a checkpoint, the end-of-run snapshot), `subagent sessions show`,
chat's `/diff`, `subagent undo`, and subagents in worktrees merged back. No marker may appear.
The control, in the same test: the plain git command a user would type fires each trap.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from tests.security import host_git_traps as traps
from tests.security.attacker import Call, Outcome, Site
from tests.security.host_git_traps import Trap, TrapKit

_CHAT_DIFF = (
    "import sys; from pathlib import Path; from agent.chat.checkpoints import session_diff; "
    "print(session_diff(sys.argv[1], Path(sys.argv[2])))"
)


def trap_kit(site: Site) -> TrapKit:
    kit = TrapKit(site.root / "traps")
    kit.install()
    site.own(kit.folder)
    return kit


def plant(site: Site, kit: TrapKit, script: str, cwd: Path | None = None) -> None:
    done = site.shell(script, cwd=cwd or site.workspace, FIRE=str(kit.fire))
    assert done.returncode == 0, done.stderr


def git_line(outcome: Outcome) -> str:
    """The environment block's `Git:` line of the run's first request."""
    system = outcome.requests[0]["system"]
    text = "".join(block["text"] for block in system) if isinstance(system, list) else system
    return next(line for line in text.splitlines() if line.startswith("Git: "))


def the_runtimes_git(site: Site, kit: TrapKit, replant: str | None = None) -> Outcome:
    """Every git the runtime runs on the workspace, each as the attacking user; `replant` runs
    again before each step (a trap the runtime repairs must be there for every one of them)."""
    outcome = site.run([[Call("write", {"file_path": "added.py", "content": "x = 1\n"})]])
    assert outcome.returncode == 0, outcome.stderr
    assert (site.workspace / "added.py").exists()
    session = outcome.events[0]["session_id"]
    steps: Sequence[tuple[str, ...]] = (
        (sys.executable, "-m", "agent", "sessions", "show", session),
        (sys.executable, "-c", _CHAT_DIFF, session, str(site.workspace)),
        (sys.executable, "-m", "agent", "undo", "--yes", "--cwd", str(site.workspace)),
    )
    for argv in steps:
        if replant:
            plant(site, kit, replant)
        done = site.as_attacker(argv)
        assert done.returncode == 0, f"{argv[2:4]}: {done.stderr}"
    assert not (site.workspace / "added.py").exists(), "undo did not restore the workspace"
    return outcome


def assert_controls_fire(site: Site, kit: TrapKit, planted: Sequence[Trap]) -> None:
    for trap in planted:
        kit.clear()
        site.shell(trap.control, FIRE=str(kit.fire))
        assert trap.name in kit.fired(), f"the control `{trap.control}` did not fire {trap.name}"


def test_traps_in_the_repository_config_never_fire(site: Site) -> None:
    kit = trap_kit(site)
    config = (site.workspace / ".git" / "config").read_text()
    by_tools = site.run(
        [  # what still reaches .git/config on this branch, bypass mode
            [Call("read", {"file_path": ".git/config"})],
            [
                Call(
                    "write",
                    {
                        "file_path": ".git/config",
                        "content": f"{config}[core]\n\tfsmonitor = {kit.fire} fsmonitor\n",
                    },
                )
            ],
            [Call("bash", {"command": f"git config diff.external '{kit.fire} diff_external'"})],
        ]
    )
    assert by_tools.returncode == 0, by_tools.stderr
    for trap in traps.IN_ONE_CONFIG:
        plant(site, kit, trap.plant)
    kit.clear()

    outcome = the_runtimes_git(site, kit)

    assert kit.fired() == set()
    assert git_line(outcome).startswith("Git: branch master")
    assert_controls_fire(site, kit, traps.IN_ONE_CONFIG)


def test_hooks_in_the_git_dir_never_fire(site: Site) -> None:
    kit = trap_kit(site)
    plant(site, kit, traps.HOOKS_DIR.plant)
    kit.clear()
    the_runtimes_git(site, kit)
    assert kit.fired() == set()
    assert_controls_fire(site, kit, [traps.HOOKS_DIR])


def test_a_commondir_is_refused_by_name_and_never_followed(site: Site) -> None:
    kit = trap_kit(site)
    from_bash = (
        "cp -R .git/. evil-common/ && rm -f evil-common/commondir && "
        f"git --git-dir=evil-common config core.fsmonitor '{kit.fire} commondir' && "
        "echo ../evil-common > .git/commondir"
    )
    site.run([[Call("bash", {"command": from_bash})]])  # bash reaches .git/commondir on this branch
    if not (site.workspace / ".git" / "commondir").exists():
        plant(site, kit, traps.COMMONDIR.plant)
    kit.clear()

    outcome = the_runtimes_git(site, kit)

    assert kit.fired() == set()
    assert git_line(outcome).startswith(
        f"Git: not inspected: refusing to run git through {site.workspace / '.git' / 'commondir'}"
    )
    assert_controls_fire(site, kit, [traps.COMMONDIR])


def test_a_gitdir_into_the_workspace_is_refused_and_never_followed(site: Site) -> None:
    kit = trap_kit(site)
    plant(site, kit, traps.GITDIR_INSIDE.plant)
    kit.clear()
    outcome = the_runtimes_git(site, kit)
    assert kit.fired() == set()
    assert "not inspected: refusing to run git through" in git_line(outcome)
    assert_controls_fire(site, kit, [traps.GITDIR_INSIDE])


def test_a_fresh_git_init_and_a_nested_one_never_fire(site: Site) -> None:
    kit = trap_kit(site)
    site.shell("rm -rf .git")  # a folder that is not a git repository
    from_bash = (
        f"git init -q && git config core.fsmonitor '{kit.fire} fresh_init' && "
        "mkdir -p vendor/lib && git -C vendor/lib init -q && "
        "git -C vendor/lib -c user.name=a -c user.email=a@x.org commit -q --allow-empty -m v && "
        f"git -C vendor/lib config core.fsmonitor '{kit.fire} nested_init'"
    )
    site.run([[Call("bash", {"command": from_bash})]])  # bash can make repositories in the workspace
    if "fresh_init" not in site.shell("git config core.fsmonitor").stdout:
        plant(site, kit, "rm -rf .git && " + traps.FRESH_INIT.plant)
    if "nested_init" not in site.shell("git -C vendor/lib config core.fsmonitor").stdout:
        plant(site, kit, "rm -rf vendor && " + traps.NESTED_INIT.plant)
    kit.clear()

    outcome = the_runtimes_git(site, kit)

    assert kit.fired() == set()
    assert git_line(outcome).startswith("Git: branch No commits yet on master")  # bash's repository
    assert_controls_fire(site, kit, [traps.FRESH_INIT, traps.NESTED_INIT])


def test_a_planted_checkpoint_repository_never_fires(site: Site) -> None:
    kit = trap_kit(site)
    first = site.run([[Call("write", {"file_path": "first.py", "content": "x = 0\n"})]])
    assert first.returncode == 0, first.stderr
    key = hashlib.sha256(str(site.workspace.resolve()).encode()).hexdigest()[:20]
    shadow = site.data / "checkpoints" / key
    planted = traps.shadow_plant(shadow, kit.fire)
    plant(site, kit, planted)
    kit.clear()

    the_runtimes_git(site, kit, replant=planted)

    assert kit.fired() == set()
    plant(site, kit, planted)
    for name, control in traps.SHADOW_CONTROLS.items():
        kit.clear()
        site.shell(f"export GIT_DIR='{shadow}' GIT_WORK_TREE='{site.workspace}' && {control}")
        assert name in kit.fired(), f"`{control}` did not fire {name}"


def test_subagents_in_worktrees_cannot_plant_for_the_runtime(site: Site) -> None:
    """Two children work in worktrees: one makes its worktree a repository full of traps (which a
    resumed session's status, its snapshots and the merge then meet), one writes a file the
    workspace protects. Nothing fires, and the protected file does not reach the workspace."""
    kit = trap_kit(site)
    plant_in_worktree = (
        f"git init -q && git config core.fsmonitor '{kit.fire} child_fsmonitor' && "
        f"git config filter.trap.clean '{kit.fire} child_filter' && "
        "echo '*.py filter=trap' > .gitattributes && echo 'x = 1' > child.py"
    )
    protected = "mkdir -p .subagent && echo 'defaults: {permission_mode: bypass}' > .subagent/config.yaml"
    script = {
        "scripts": [
            {
                "match": match,
                "replies": [
                    {"tool_calls": [{"name": "bash", "input": {"command": command}}]},
                    {"text": "done"},
                    {"text": "verified now"},
                ],
            }
            for match, command in (("plant", plant_in_worktree), ("protect", protected))
        ]
    }
    verify = "test -e .verified || { touch .verified; exit 1; }"  # fails once: the child is resumed
    tasks = {
        "tasks": [
            {"id": "plant", "agent": "backend-engineer", "prompt": "plant", "verify": verify},
            {"id": "protect", "agent": "backend-engineer", "prompt": "protect", "verify": verify},
        ]
    }
    site.write(site.root / "script.yaml", yaml.safe_dump(script))
    site.write(site.root / "tasks.yaml", yaml.safe_dump(tasks))

    done = site.subagent(
        "dispatch",
        str(site.root / "tasks.yaml"),
        "--script",
        str(site.root / "script.yaml"),
        "--permission-mode",
        "bypass",
        "--json",
        "--cwd",
        str(site.workspace),
        timeout=300,
    )

    report = json.loads(done.stdout)
    results = {r["id"]: r for r in report["results"]}
    assert results["plant"]["status"] == "success", done.stdout
    assert (site.workspace / "child.py").read_text() == "x = 1\n"
    assert not (site.workspace / ".subagent").exists()
    if ".subagent/config.yaml" in results["protect"]["files_changed"]:  # the sandbox let it write there
        assert results["protect"]["status"] == "error_merge_conflict" and results["protect"]["branch"]
    assert kit.fired() == set()
    replay = site.root / "replay"
    site.shell(f"mkdir -p {replay}")
    plant(site, kit, plant_in_worktree, cwd=replay)
    for name, control in (("child_fsmonitor", "git status"), ("child_filter", "git add -A")):
        kit.clear()
        site.shell(control, cwd=replay)
        assert name in kit.fired(), f"`{control}` did not fire {name}"
