"""What a killed run leaves behind, swept by the next run, and the record `subagent doctor` reads.

A run killed with `kill -9` runs no cleanup. It can leave:

- subagent worktrees under `<data>/worktrees/` (their folder names end with the owner's pid): a
  checkout, or an overlay tree's upper and work folders (its mount died with the process's own
  mount namespace, `agent.orchestrator.mountns`);
- base checkouts under `<data>/bases/` left incomplete, or no longer the newest of their
  workspace (each is locked while a process uses it: only unlocked ones are swept);
- a hidden temporary file `.<name>.<8 characters>.tmp` beside a file it was writing (the edit
  tools, the merge and the runtime's own files write through one and rename it over the target:
  `agent._atomic_file.temporary_name`), a symbolic link too (the merge makes a link that way).

Only what is provably dead is swept: a worktree whose owner pid is gone, and temporary files of a
workspace whose lock the dead run held (`_lock.hold_workspace`): the lock is free, so no run is
writing there, and its file still names the dead holder, so one was killed mid-run. Each sweep is
appended to `<data>/swept.jsonl`, which `subagent doctor` shows.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from agent import paths
from agent.errors import WorkspaceBusyError
from agent.sessions._lock import hold_workspace, workspace_holder

_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp", re.DOTALL)
"""`agent._atomic_file.temporary_name`, the name every replace-by-rename writes through (matched
whole, a newline in NAME included)."""
_SKIPPED = {".git"}
_KEPT_LINES = 200


def log_path() -> Path:
    return paths.data_home() / "swept.jsonl"


def sweep_temporaries(workspace: Path, dead_holder: str) -> list[str]:
    """Remove `temporary_name`'s temporary files (and links) from `workspace` (call only while
    holding its lock, found free with `dead_holder` still written in it); returns what was removed
    (and logs it)."""
    removed: list[str] = []
    for folder, subfolders, files in os.walk(workspace):
        subfolders[:] = [d for d in subfolders if d not in _SKIPPED]
        links = [d for d in subfolders if os.path.islink(os.path.join(folder, d))]
        for name in [*files, *links]:  # a temporary symbolic link to a folder is listed as a folder
            if not _TEMP_NAME.fullmatch(name):
                continue
            path = Path(folder) / name
            try:
                path.unlink()
            except OSError:
                continue
            removed.append(str(path))
    record_swept("temporary file", removed, f"left by {dead_holder}, which was killed")
    return removed


def sweep_placeholders(workspace: Path) -> list[str]:
    """Remove the sandbox's empty read-only placeholders that a killed bash call left: in
    `workspace` (`.mcp.json/`, `.subagent/`, ...), and in the user's HOME where a writable root
    took in a credential that did not exist (`~/.netrc`, `~/.config/gh/`); a live sandbox's are
    locked and stay."""
    from agent.sandbox._placeholder import sweep_stale
    from agent.sandbox.policy import HOME_SECRET_FILES, HOME_SECRET_FOLDERS, HOME_SECRETS, PROTECTED

    home = Path.home()
    folders = [workspace / rel for rel in (*PROTECTED, ".git/hooks")]
    above = {folder for rel in HOME_SECRETS for folder in (home / rel).parents if home in folder.parents}
    folders += [home / rel for rel in HOME_SECRET_FOLDERS]
    folders += sorted(above, key=lambda folder: len(folder.parts), reverse=True)  # emptied first
    files = [home / rel for rel in sorted(HOME_SECRET_FILES)]
    removed = [str(path) for path in sweep_stale(folders, files=files)]
    record_swept("placeholder", removed, "an empty read-only placeholder a killed sandbox left")
    return removed


def record_swept(kind: str, removed: list[str], why: str) -> None:
    """Append what a sweep removed to the log `subagent doctor` shows (the last `_KEPT_LINES`)."""
    if not removed:
        return
    now = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [json.dumps({"time": now, "kind": kind, "path": path, "why": why}) for path in removed]
    log = log_path()
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        kept = log.read_text().splitlines()[-_KEPT_LINES:] if log.exists() else []
        log.write_text("\n".join([*kept, *lines]) + "\n")
    except OSError:  # the sweep happened; only its record is lost
        return


def recent() -> list[dict[str, str]]:
    """What earlier sweeps removed, oldest first (the last `_KEPT_LINES`)."""
    try:
        lines = log_path().read_text().splitlines()
    except OSError:
        return []
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries


@contextmanager
def workspace_for_run(workspace: Path, session_id: str, *, editing: bool) -> Iterator[None]:
    """Around a top-level run: sweep what dead runs left in the workspace, and hold it while
    `editing`. (The subagents' worktrees are the orchestrator's to sweep:
    `agent.orchestrator.worktree.sweep_worktrees`, at the start of a front end's run.)

    A run that may change files holds the workspace for its whole length, so a second one is told
    it is busy (`WorkspaceBusyError`, naming this session and pid) and each run's changes,
    checkpoints and undo are its own. A read-only run holds nothing, but sweeps too.
    """
    if not editing:
        sweep_workspace(workspace)
        yield
        return
    with hold_workspace(lock_dir(), workspace, _command()) as claim:
        claim.name(session_id, _command())
        sweep_placeholders(workspace)
        if claim.previous is not None:
            sweep_temporaries(workspace, claim.previous)
        yield


def refuse_if_busy(workspace: Path) -> None:
    """Raise WorkspaceBusyError now, before a session is made, when another run holds `workspace`."""
    holder = workspace_holder(lock_dir(), workspace)
    if holder is not None:
        raise WorkspaceBusyError(workspace, holder)


def sweep_workspace(workspace: Path) -> None:
    """Sweep `workspace`'s temporary files if a killed run held it and no run holds it now, and
    the placeholders no live sandbox holds."""
    sweep_placeholders(workspace)
    try:
        with hold_workspace(lock_dir(), workspace, _command()) as claim:
            if claim.previous is not None:
                sweep_temporaries(workspace, claim.previous)
    except WorkspaceBusyError:
        return  # a live run holds it: nothing there is provably dead


def lock_dir() -> Path:
    return paths.data_home() / "locks"


def _command() -> str:
    """What this process is, as a person would recognise it (`subagent run ...`, `subagent mcp`)."""
    argv = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else ["python"]
    if argv[0] in ("__main__.py", "-m", "-c"):
        argv[0] = "subagent"
    return " ".join(argv)[:80]
