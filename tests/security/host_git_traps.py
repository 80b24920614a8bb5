"""Traps a repository can set for whoever runs git in it, each leaving a marker when it fires.

Every trap is a shell snippet that plants it (run in the repository, as whoever plants it) and
the plain git command a user would run that fires it: the control. The command a trap makes git
run is `$FIRE <name>`, a script beside the markers that touches `markers/<name>` (and passes
content through where git expects some back). Markers live outside the workspace.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

_FIRE = """#!/bin/sh
touch "$(dirname "$0")/markers/$1"
case "$1" in
  *textconv*) exec cat "$2" ;;
  *clean*|*smudge*|*pager*) exec cat ;;
esac
exit 0
"""
HOOKS = (
    "pre-commit",
    "post-commit",
    "post-checkout",
    "post-index-change",
    "reference-transaction",
    "post-merge",
    "pre-auto-gc",
)
"""Hooks a git the runtime runs could reach (index writes, ref updates, checkouts, commits)."""


@dataclass(frozen=True)
class Trap:
    """One way a repository makes git run a command."""

    name: str
    plant: str
    """Shell, run at the top of the work tree."""
    control: str
    """Shell a user would type there; it fires the trap."""


def _hooks(folder: str, name: str) -> str:
    return (
        f"mkdir -p {folder} && for h in {' '.join(HOOKS)}; do "
        f'printf "#!/bin/sh\\nexec \\"$FIRE\\" {name}\\n" > {folder}/$h && chmod +x {folder}/$h; done'
    )


FSMONITOR = Trap("fsmonitor", 'git config core.fsmonitor "$FIRE fsmonitor"', "git status")
HOOKS_PATH = Trap(
    "hooks_path",
    f"{_hooks('.husky', 'hooks_path')} && git config core.hooksPath .husky",
    "git commit -q --allow-empty -m control",
)
INCLUDE = Trap(
    "include",
    """printf '[filter "inc"]\\n\\tclean = "%s include"\\n' "$FIRE" > extra.cfg && """
    "git config include.path ../extra.cfg && echo '*.inc filter=inc' >> .gitattributes && echo inc > x.inc",
    "echo more >> x.inc && git add -A",
)
FILTER = Trap(
    "filter_clean",
    "echo '*.txt filter=trap' >> .gitattributes && echo notes > notes.txt && "
    'git config filter.trap.clean "$FIRE filter_clean" && '
    'git config filter.trap.smudge "$FIRE filter_smudge"',
    "echo more >> notes.txt && git add -A",
)
DIFF_EXTERNAL = Trap(
    "diff_external", 'git config diff.external "$FIRE diff_external"', "echo more >> README.md && git diff"
)
TEXTCONV = Trap(
    "textconv",
    'echo "*.md diff=trap" >> .gitattributes && git config diff.trap.textconv "$FIRE textconv"',
    "echo more >> README.md && git diff --no-ext-diff",
)
PAGER = Trap("pager", 'git config core.pager "$FIRE pager"', "script -qec 'git log -1' /dev/null")
SUBMODULE = Trap(
    "submodule",
    'src="$(dirname "$FIRE")/subsrc" && git init -q "$src" && git -C "$src" commit -q --allow-empty -m s && '
    'git -c protocol.file.allow=always submodule add -q "$src" vendored && '
    'git -C vendored config core.fsmonitor "$FIRE submodule"',
    "git status",
)
IN_ONE_CONFIG = (FSMONITOR, HOOKS_PATH, INCLUDE, FILTER, DIFF_EXTERNAL, TEXTCONV, PAGER, SUBMODULE)
"""Traps that live side by side in one repository (each control fires at least its own)."""

HOOKS_DIR = Trap("hooks_dir", _hooks(".git/hooks", "hooks_dir"), "git commit -q --allow-empty -m control")
COMMONDIR = Trap(
    "commondir",
    'evil="$(dirname "$FIRE")/evil-common" && mkdir -p "$evil" && cp -R .git/. "$evil/" && '
    'git --git-dir="$evil" config core.fsmonitor "$FIRE commondir" && echo "$evil" > .git/commondir',
    "git status",
)
FRESH_INIT = Trap("fresh_init", 'git init -q && git config core.fsmonitor "$FIRE fresh_init"', "git status")
"""Planted in a workspace that is not (yet) a git repository."""
NESTED_INIT = Trap(
    "nested_init",
    "mkdir -p vendor/lib && git -C vendor/lib init -q && "
    "git -C vendor/lib commit -q --allow-empty -m v && "
    'git -C vendor/lib config core.fsmonitor "$FIRE nested_init"',
    "git -C vendor/lib status",
)
GITDIR_INSIDE = Trap(
    "gitdir_inside",
    'mv .git gitstuff && printf "gitdir: gitstuff\\n" > .git && '
    'git config core.fsmonitor "$FIRE gitdir_inside"',
    "git status",
)


@dataclass(frozen=True)
class TrapKit:
    """The fire script and its markers, in a folder outside the workspace."""

    folder: Path

    @property
    def fire(self) -> Path:
        return self.folder / "fire"

    @property
    def markers(self) -> Path:
        return self.folder / "markers"

    def install(self) -> None:
        self.markers.mkdir(parents=True, exist_ok=True)
        self.markers.chmod(0o777)
        self.fire.write_text(_FIRE)
        self.fire.chmod(0o755)

    def fired(self) -> set[str]:
        return {p.name for p in self.markers.iterdir()} if self.markers.is_dir() else set()

    def clear(self) -> None:
        for marker in self.markers.iterdir():
            marker.unlink()


def shell(script: str, cwd: Path, kit: TrapKit) -> subprocess.CompletedProcess[str]:
    """Run `script` as this process (the unit tests' planter and control)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "FIRE": str(kit.fire),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@example.com",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@example.com",
    }
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def shadow_plant(shadow: Path, fire: Path) -> str:
    """Shell that rewrites the runtime's own shadow repository (in its hidden data dir) to run
    commands: what a file tool with no boundary, or any other writer, could do to it. The
    workspace's `.gitattributes` names the drivers for every file."""
    config = (
        "\n".join(
            [
                "[core]",
                "\trepositoryformatversion = 0",
                "\tbare = true",
                f"\tfsmonitor = {fire} shadow_fsmonitor",
                f"\thooksPath = {shadow}/hooks",
                f"\tpager = {fire} shadow_pager",
                "[diff]",
                f"\texternal = {fire} shadow_diff_external",
                '[diff "trap"]',
                f"\ttextconv = {fire} shadow_textconv",
                '[filter "trap"]',
                f"\tclean = {fire} shadow_filter",
                f"\tsmudge = {fire} shadow_filter",
                '[merge "trap"]',
                f"\tdriver = {fire} shadow_merge",
            ]
        )
        + "\n"
    )
    attributes = "* filter=trap diff=trap merge=trap"
    return (
        f"printf '%s' '{config}' > '{shadow}/config' && "
        f"echo '{attributes}' > '{shadow}/info/attributes' && echo '{attributes}' > .gitattributes && "
        + _hooks(f"'{shadow}/hooks'", "shadow_hook")
    )


SHADOW_CONTROLS = {
    "shadow_fsmonitor": "git status",
    "shadow_filter": "echo more >> README.md && git add README.md",
    "shadow_diff_external": "echo more >> README.md && git diff",
    "shadow_textconv": "echo more >> README.md && git diff --no-ext-diff",
    "shadow_hook": "git update-ref refs/heads/control refs/heads/snapshots",
}
"""Plain git on the planted shadow repository (GIT_DIR and GIT_WORK_TREE set), and what fires."""
