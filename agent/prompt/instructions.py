"""Project instructions: the `AGENTS.md` and `CLAUDE.md` files a project keeps for agents.

Two ways in:
- `load_project_instructions(workspace)` collects the files for the system prompt, once per
  session, as one text block. Order, most general first so the most specific comes last:
  1. the user's own `$XDG_CONFIG_HOME/subagent/AGENTS.md`;
  2. each folder from the repository root (the nearest folder above the workspace holding
     `.git`; without one, only the workspace) down to the workspace: its `AGENTS.md`, then its
     `CLAUDE.md`.
  Each file is marked with its absolute path. A file is capped at `MAX_FILE_BYTES` and the whole
  block at `MAX_TOTAL_BYTES`; the budget is spent from the most specific file up, so a long file
  at the repository root cannot push out the workspace's own. A cut says so and names the file.
  The block holds no timestamps or other changing state: it sits in the cached prefix of every
  request and must stay byte-identical while the files do.
- `FolderInstructions.for_read(path)` returns the `AGENTS.md`/`CLAUDE.md` of the folders between a
  file the agent reads and the workspace, each once per session, to be appended to the read
  tool's result: instructions scoped to a subfolder are seen where they apply (as opencode does).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from agent import paths
from agent.trust.confine import not_regular, outside, read_resolved

INSTRUCTION_FILES = ("AGENTS.md", "CLAUDE.md")
"""Names read in each folder, in this order."""
USER_FILE = "AGENTS.md"
"""The user's own file, under `agent.paths.config_home()`."""
MAX_FILE_BYTES = 8 * 1024
MAX_TOTAL_BYTES = 24 * 1024
_HEADER = (
    "Instructions for agents from the user and this project, most general first: where they "
    "disagree, the later (more specific) file wins."
)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class InstructionFile:
    """One file as it goes into the prompt."""

    path: Path
    text: str
    """The (possibly cut) content."""
    size: int
    """The file's full size in bytes."""


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class ProjectInstructions:
    """What the system prompt carries, and which files that covers."""

    files: tuple[InstructionFile, ...]
    text: str
    """The block for the system prompt ("" when there are no files)."""

    @property
    def paths(self) -> set[Path]:
        return {f.path for f in self.files}

    def folder_notes(self, workspace: Path) -> Callable[[Path], str | None]:
        """What a read in `workspace` appends: a subfolder's own instructions, once per session,
        never those already here (`FolderInstructions.for_read`; `ToolContext.read_notes`)."""
        return FolderInstructions(workspace, self.paths).for_read


def repository_root(workspace: Path) -> Path | None:
    """The nearest folder at or above `workspace` that holds `.git` (a folder or a worktree file)."""
    for folder in (workspace, *workspace.parents):
        if (folder / ".git").exists():
            return folder
    return None


def instruction_paths(workspace: Path, user_dir: Path | None = None) -> list[Path]:
    """The existing instruction files, in prompt order (see the module docstring)."""
    workspace = workspace.resolve()
    found: list[Path] = []
    user_file = (user_dir if user_dir is not None else paths.config_home()) / USER_FILE
    if user_file.is_file():
        found.append(user_file.resolve())
    root = repository_root(workspace) or workspace
    chain = [workspace, *workspace.parents]
    folders = reversed(chain[: chain.index(root) + 1])
    for folder in folders:
        for name in INSTRUCTION_FILES:
            if (candidate := _project_file(folder / name, root)) is not None:
                found.append(candidate)
    return list(dict.fromkeys(found))  # a CLAUDE.md linked to AGENTS.md counts once


def _project_file(path: Path, root: Path) -> Path | None:
    """`path` resolved, when it is a regular file inside `root`: a project's instruction file goes to
    the model API, so a link out of the project (to `~/.ssh/id_rsa`) or a FIFO is never read."""
    if outside(path, root) is not None or not_regular(path) is not None:
        return None
    return path.resolve()


def _cut(data: bytes, limit: int) -> str:
    """The first `limit` bytes as text, ending on a line boundary when one is near."""
    head = data[:limit]
    newline = head.rfind(b"\n")
    if newline > limit // 2:
        head = head[: newline + 1]
    return head.decode("utf-8", errors="ignore")


def _read(path: Path, budget: int) -> InstructionFile | None:
    """The file at the resolved, checked `path`, if it is still that file (a link swapped in since
    the check, by a bash of the same run, is not followed: `read_resolved`)."""
    try:
        data, size = read_resolved(path, budget)
    except OSError:
        return None  # vanished, unreadable or swapped: the prompt goes on without it
    text = data.decode("utf-8", errors="replace") if size <= budget else _cut(data, budget)
    return InstructionFile(path=path, text=text, size=size)


def _render(file: InstructionFile) -> str:
    body = file.text.rstrip("\n")
    shown = len(file.text.encode("utf-8"))
    if shown < file.size:
        body += (
            f"\n[cut: {file.path} is {file.size} bytes and only the first {shown} are shown "
            f"(instruction files are capped at {MAX_FILE_BYTES} bytes each, {MAX_TOTAL_BYTES} in all); "
            "read the file for the rest]"
        )
    return f'<instructions path="{file.path}">\n{body}\n</instructions>'


def load_project_instructions(workspace: Path, user_dir: Path | None = None) -> ProjectInstructions:
    """Collect and cap the instruction files for the system prompt of a session in `workspace`.

    Example:
        block = load_project_instructions(Path(".")).text  # "" when the project keeps none
    """
    budget = MAX_TOTAL_BYTES
    chosen: list[InstructionFile] = []
    for path in reversed(instruction_paths(workspace, user_dir)):
        loaded = _read(path, min(MAX_FILE_BYTES, budget))
        if loaded is None:
            continue
        chosen.append(loaded)
        budget -= len(loaded.text.encode("utf-8"))
    files = tuple(reversed(chosen))
    if not files:
        return ProjectInstructions(files=(), text="")
    text = "\n\n".join([_HEADER, *(_render(f) for f in files)])
    return ProjectInstructions(files=files, text=text)


class FolderInstructions:
    """Hands out a subfolder's own instruction files once per session, next to a file read there.

    Files already in the system prompt (`already_loaded`) are never repeated. Reads run
    concurrently on one event loop; the check-and-mark below has no await, so it is atomic there.
    """

    def __init__(self, workspace: Path, already_loaded: set[Path]) -> None:
        self.workspace = workspace.resolve()
        self._seen: set[Path] = {p.resolve() for p in already_loaded}

    def _folders(self, target: Path) -> list[Path]:
        """Folders from the workspace down to the one holding `target` (empty when outside)."""
        folder = target if target.is_dir() else target.parent
        if outside(folder, self.workspace) is not None:
            return []
        chain = [folder, *folder.parents]
        return list(reversed(chain[: chain.index(self.workspace) + 1]))

    def for_read(self, path: Path) -> str | None:
        """The instructions to append to the result of reading `path`, or None.

        Reading an instruction file itself marks it seen (its text is already in the result).
        """
        target = (path if path.is_absolute() else self.workspace / path).resolve()
        notes: list[str] = []
        for folder in self._folders(target):
            for name in INSTRUCTION_FILES:
                candidate = _project_file(folder / name, self.workspace)
                if candidate is None or candidate in self._seen:
                    continue
                self._seen.add(candidate)
                if candidate == target:
                    continue
                loaded = _read(candidate, MAX_FILE_BYTES)
                if loaded is not None:
                    notes.append(_render(loaded))
        if not notes:
            return None
        intro = "Instructions that apply to files in this folder (shown once; follow them here):"
        return "\n\n".join(["<system-reminder>", intro, *notes]) + "\n</system-reminder>"
