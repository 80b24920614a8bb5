"""Bring a child's work back into the workspace: a three-way merge of snapshot commits.

base = the checkpoint the child started from, ours = the workspace now (snapshotted first, so
work merged from siblings or done by the parent meanwhile is kept), theirs = the child's last
snapshot. `git merge-tree --write-tree` merges without a work tree; a clean result is written to
the workspace file by file (only the files the merge changes, `materialise`; the user's HEAD and
index are never touched). A batch after the first merges onto what the previous one left instead
of a fresh snapshot, so it reads only what the children changed, never the whole workspace (each
file it writes is checked first). In a batch of two or more, the children whose changes meet
nothing else that changed are applied together, one tree and one commit for all of them
(`disjoint`); the others are merged three-way at their place. A conflict changes nothing in the
workspace: the child's work is kept on a branch of the shadow repository and the conflicting
hunks are reported. So is a child's change to a path the run's filesystem policy protects
(`.subagent/`, the hooks folder, ...): its worktree was a root of its own, and the merge must
not carry back what the child could not have written here. The outcome says what the workspace
holds after the merge: a path the write left out, or below a folder that is a symbolic link in
the workspace now (the child deleted `foo/.bashrc`, `foo` now links to HOME: nothing was
deleted, and `foo/.bashrc` still reads as a file), is `refused`, not changed, and the child's
whole work is kept on a branch.
"""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from agent.errors import MergeRefusedError, SubagentError, WorktreeError
from agent.hostgit.runner import GitTarget
from agent.orchestrator import disjoint, materialise, treeedit
from agent.orchestrator._git import run_git
from agent.sessions.checkpoints import ShadowRepo

_MAX_HUNK_LINES = 80
"""Per conflicting file, in the report the parent reads."""
Protected = Callable[[str], str | None]
"""Why the run's filesystem policy keeps a workspace path (relative) from being written, or None."""
_THROUGH_LINK = (
    "a folder on its path is a symbolic link in the workspace now, and the merge follows no link: "
    "the path reaches something other than what the subagent changed"
)
_UNDER_FILE = "a folder on its path is a file in the workspace now: the path is not there"


class MergedFile(BaseModel):
    path: str
    """Relative to the workspace."""
    change: Literal["added", "modified", "deleted"]


class MergeOutcome(BaseModel):
    """What merging one child's work back did."""

    merged: bool
    files: list[MergedFile] = []
    """The files the child changed (relative paths)."""
    patch: str = ""
    """`git diff` of the child's work against its checkpoint."""
    conflicts: list[str] = []
    hunks: str = ""
    """The conflicting regions with markers, workspace side first."""
    branch: str | None = None
    """Shadow-repository branch holding the child's work when it was not merged (or not all of it)."""
    refused: dict[str, str] = {}
    """Paths of the child's change the merge did not carry into the workspace, and why: a protected
    path (nothing of the child's work is merged then), or a path below a folder that is a symbolic
    link in the workspace now (the rest is merged, and the whole work kept on `branch`)."""


def child_changes(repo: ShadowRepo, base: str, theirs: str) -> tuple[list[MergedFile], str]:
    """The files a child changed and its patch, from its checkpoint to its last snapshot."""
    files = [MergedFile(path=c.path, change=c.change) for c in repo.changed_files(base, theirs)]
    return files, repo.diff(base, theirs) if files else ""


class MergeRequest(BaseModel):
    """One child's work to merge: its checkpoint, its last snapshot, and what it changed."""

    base: str
    theirs: str
    name: str
    """Labels the branch a conflict keeps."""
    files: list[MergedFile]
    patch: str


def merge_many(repo: ShadowRepo, requests: list[MergeRequest]) -> list[MergeOutcome]:
    """Merge several children's work, in order, with one snapshot and one write of the workspace.

    Each child is merged onto the result of the previous ones (a conflict skips that child and
    keeps its work on a branch); callers serialise calls for one workspace (`MergeQueue`).
    """
    return merge_onto(repo, requests, None)[0]


def merge_onto(
    repo: ShadowRepo,
    requests: list[MergeRequest],
    known: str | None,
    protected: Protected | None = None,
) -> tuple[list[MergeOutcome], str | None]:
    """`merge_many` onto `known`, the commit the workspace was left equal to by the previous
    merge, instead of a fresh snapshot (a scan of the whole workspace); returns the outcomes and
    the commit the workspace equals now. If a file the merge would write changed since `known`,
    the merge is redone onto a fresh snapshot (`materialise`). `protected` says why a path may
    not be merged (`_protected_paths`, built here if not given; a queue builds it once).

    Raises:
        WorktreeError: the merge failed (git, the file system, or a defect); each child's work is
            kept on a branch first, and the message names the branches.
    """
    try:
        return _merge_onto(repo, requests, known, protected)
    except Exception as exc:
        raise _failed(repo, requests, exc) from exc


def _failed(repo: ShadowRepo, requests: list[MergeRequest], exc: Exception) -> WorktreeError:
    """The error a failed merge reaches each child's parent as, once each child's work with
    changes is kept on a branch (what the workspace holds of it is unknown: part may be written)."""
    kept: list[str] = []
    for request in requests:
        if not request.files:
            continue
        try:
            kept.append(f"{request.name} on {_kept(repo, request, [], '').branch}")
        except SubagentError as why:
            kept.append(f"{request.name} NOT kept ({why})")
    what = str(exc) if isinstance(exc, SubagentError) else f"{type(exc).__name__}: {exc}"
    return WorktreeError(
        f"merging {', '.join(r.name for r in requests)} into {repo.workspace} failed ({what}); the "
        f"workspace may hold part of it. The work is kept: {'; '.join(kept) or 'none to keep'}. "
        f"Read a file of it with `git --git-dir {repo.git_dir} show BRANCH:PATH`."
    )


def _merge_onto(
    repo: ShadowRepo, requests: list[MergeRequest], known: str | None, protected: Protected | None
) -> tuple[list[MergeOutcome], str | None]:
    if not any(r.files for r in requests):
        return [MergeOutcome(merged=True) for _ in requests], known
    ours = known or repo.snapshot(f"before merging {', '.join(r.name for r in requests)}")
    if protected is None:
        protected = _protected_paths(repo.workspace)
    refused = {
        index: notes
        for index, request in enumerate(requests)
        if (
            notes := {
                f.path: f"{why}; a subagent may not change it"
                for f in request.files
                if (why := protected(f.path))
            }
        )
    }
    merging = _Merging(repo, ours, [r for i, r in enumerate(requests) if r.files and i not in refused])
    outcomes: list[MergeOutcome] = []
    for index, request in enumerate(requests):
        if not request.files:
            outcomes.append(MergeOutcome(merged=True))
        elif index in refused:
            outcomes.append(_kept(repo, request, [], "").model_copy(update={"refused": refused[index]}))
        else:
            outcomes.append(merging.merge(request))
    current, changes = merging.finish()
    left_out: dict[str, str] = {}
    if changes:
        if known is not None and not materialise.unchanged(repo.workspace, changes):
            # the workspace moved on: merge onto what it is
            return _merge_onto(repo, requests, None, protected)
        try:
            materialise.write(repo, changes)  # the next checkpoint records it
        except MergeRefusedError as exc:
            left_out = exc.refused
    made_later: set[str] = set()  # by the children after this one, merged in the same batch
    for index in reversed(range(len(requests))):
        made = {f.path for f in outcomes[index].files if f.change != "deleted"}
        outcomes[index] = _as_done(repo, requests[index], outcomes[index], left_out, made_later)
        if outcomes[index].merged:
            made_later |= made
    return outcomes, None if left_out else current  # what was left out: the workspace is not `current`


def _as_done(
    repo: ShadowRepo,
    request: MergeRequest,
    outcome: MergeOutcome,
    left_out: dict[str, str],
    made_later: set[str],
) -> MergeOutcome:
    """`outcome` as it happened in the workspace: a merged file the write left out, or that the
    workspace does not hold now, is refused, not changed; the child's whole work is then kept on a
    branch. A file added or modified is not held when a folder on its path is no folder now. A
    deletion is held when the path is absent: below a file, or below a symbolic link that the
    child itself put in place of the folder (deleting `a/x`, adding `a`) or that a child merged
    after it in the batch did (`made_later`: merged one by one, this child's report was made
    before); below any other link (`foo` swapped for `foo -> ~`) the path reaches something other
    than what the child changed."""
    if not outcome.merged:
        return outcome
    refused = {f.path: left_out[f.path] for f in outcome.files if f.path in left_out}
    made = made_later | {f.path for f in outcome.files if f.change != "deleted" and f.path not in refused}
    for f in outcome.files:
        if f.path in refused or (found := materialise.not_a_folder(repo.workspace, f.path)) is None:
            continue
        folder, link = found
        if f.change == "deleted" and (not link or folder in made):
            continue
        refused[f.path] = _THROUGH_LINK if link else _UNDER_FILE
    if not refused:
        return outcome
    return outcome.model_copy(update={"refused": refused, "branch": _kept(repo, request, [], "").branch})


class _Merging:
    """One batch's merges onto `ours`, in order. With one child to merge, a `merge-tree` (or, when
    the workspace is still its base, its tree as it is); with more, the children whose changes
    meet nothing else are applied together (`disjoint`), the others merged one at a time."""

    def __init__(self, repo: ShadowRepo, ours: str, requests: list[MergeRequest]) -> None:
        self.repo, self.git = repo, repo.git.target
        self.ours = self.current = ours
        self.waiting: list[MergeRequest] = []
        """Children applied in `since`, not yet committed."""
        self.since: disjoint.Since | None = None
        """Together: each base's changes to what is merged so far (None: one by one)."""
        self.stale = False
        """A merge per child moved `current` since `since` was read."""
        self.theirs: dict[str, disjoint.Changes] = {}
        bases = list(dict.fromkeys(r.base for r in requests))
        news = [r.theirs for r in requests] + [b for b in bases if b != ours]
        if len(requests) > 1 and len(set(news)) == len(news) and ours not in news:
            pairs = [(r.base, r.theirs) for r in requests] + [(ours, b) for b in bases if b != ours]
            found = disjoint.read_changes(repo, pairs)
            self.theirs = {r.theirs: c for r, c in zip(requests, found[: len(requests)], strict=True)}
            backwards = dict(zip([b for b in bases if b != ours], found[len(requests) :], strict=True))
            self.since = disjoint.Since({ours: {}} | {b: _reversed(c) for b, c in backwards.items()})
        self.trees: dict[str, str] = {}
        """Commits' trees, read when a comparison needs them."""

    def merge(self, request: MergeRequest) -> MergeOutcome:
        """Merge one child onto what is merged so far (or set it aside to be applied with others)."""
        if self.since is not None:
            if self.stale:
                self._reread()
            mine = self.theirs[request.theirs]
            if treeedit.writable(mine.values()) and not disjoint.meet(mine, self.since.of(request.base)):
                self.waiting.append(request)
                self.since.apply(mine.values())
                return MergeOutcome(merged=True, files=request.files, patch=request.patch)
            self._commit_waiting()
        elif self._same_tree(self.current, request.base):  # nothing to merge: the child's tree is the
            # result, recorded on `current` (not the child's own commit), so the next child's merge
            # base descends from the workspace's snapshots: a change the parent made and reverted since
            # stays reverted
            self.current = _commit(self.git, f"{request.theirs}^{{tree}}", self.current, request.name)
            return MergeOutcome(merged=True, files=request.files, patch=request.patch)
        done = run_git(
            self.git, "merge-tree", "--write-tree", "-z", "--name-only", "--no-messages", self.current,
            request.theirs, ok=(0, 1),
        )  # fmt: skip
        fields = done.stdout.decode(errors="surrogateescape").split("\0")
        merged_tree = fields[0].strip()
        conflicts = list(dict.fromkeys(f for f in fields[1:] if f)) if done.returncode == 1 else []
        if conflicts:
            return _kept(
                self.repo, request, conflicts, _hunks(self.git, merged_tree, conflicts, request.name)
            )
        self.current = _commit(self.git, merged_tree, self.current, request.name)
        self.trees[self.current] = merged_tree
        self.stale = True
        return MergeOutcome(merged=True, files=request.files, patch=request.patch)

    def finish(self) -> tuple[str, list[materialise.Change]]:
        """The commit merged onto at the end, and the changes from `ours` to it."""
        self._commit_waiting()
        if self.current == self.ours:
            return self.current, []
        if self.since is None or self.stale:
            return self.current, materialise.tree_changes(self.repo, self.ours, self.current)
        return self.current, list(self.since.of(self.ours).values())

    def _same_tree(self, one: str, other: str) -> bool:
        """Whether two commits hold the same tree (no git process when they are one commit)."""
        if one == other:
            return True
        if unknown := [c for c in (one, other) if c not in self.trees]:
            self.trees.update(_trees(self.git, *unknown))
        return self.trees[one] == self.trees[other]

    def _commit_waiting(self) -> None:
        """One tree and one commit for the children set aside: `current`'s tree with their changes
        (the tree of the only one, when `current` is still its base)."""
        if not self.waiting:
            return
        assert self.since is not None
        only = self.waiting[0]
        if len(self.waiting) == 1 and self.since.of(only.base) == self.theirs[only.theirs]:
            tree = f"{only.theirs}^{{tree}}"
        else:
            changes = [c for r in self.waiting for c in self.theirs[r.theirs].values()]
            tree = treeedit.edit(self.repo, self.current, changes)
        self.current = _commit(self.git, tree, self.current, ", ".join(r.name for r in self.waiting))
        self.waiting = []

    def _reread(self) -> None:
        """Each base's changes to `current` again, from git, after a merge per child."""
        assert self.since is not None
        bases = list(self.since.by_base)
        found = disjoint.read_changes(self.repo, [(self.current, b) for b in bases])
        self.since = disjoint.Since({b: _reversed(c) for b, c in zip(bases, found, strict=True)})
        self.stale = False


def _reversed(changes: disjoint.Changes) -> disjoint.Changes:
    """Changes read from `new` to `old`, as from `old` to `new`."""
    return {
        path: materialise.Change(path, c.new_mode, c.new_sha, c.old_mode, c.old_sha)
        for path, c in changes.items()
    }


def _commit(git: GitTarget, tree: str, parent: str, name: str) -> str:
    """A commit of `tree` on `parent`, for `name`'s merge."""
    return run_git(git, "commit-tree", tree, "-p", parent, "-m", f"merged {name}").stdout.decode().strip()


def _kept(repo: ShadowRepo, request: MergeRequest, paths: list[str], hunks: str) -> MergeOutcome:
    """Not merged: the child's work stays on a branch of the shadow repository, `paths` say why."""
    branch = repo.create_branch(f"subagent/{ref_safe(request.name)}-{request.theirs[:8]}", request.theirs)
    return MergeOutcome(
        merged=False, files=request.files, patch=request.patch, conflicts=paths, hunks=hunks, branch=branch
    )


def _protected_paths(workspace: Path) -> Protected:
    """Why the run's filesystem policy keeps a workspace path from being written, or None.

    A child's worktree is a root of its own, so what the policy protects in the workspace (the
    files that decide a later run's powers, the hooks folder) could be written there and carried
    back by a merge that the runtime, not the sandbox, performs: the merge refuses it instead.
    """
    from agent.sandbox.policy import build_policy

    policy = build_policy(workspace=workspace)

    def why_not(relative: str) -> str | None:
        rule = policy.rule_for(workspace / relative)
        return None if policy.allows(workspace / relative, "write") else rule.why

    return why_not


def _trees(git: GitTarget, *commits: str) -> dict[str, str]:
    """Each commit's tree, in one git process for a whole batch."""
    unique = list(dict.fromkeys(commits))
    out = run_git(git, "rev-parse", *(f"{c}^{{tree}}" for c in unique)).stdout.decode()
    return dict(zip(unique, out.split(), strict=True))


class MergeQueue:
    """Merges into one workspace, one batch at a time: children finishing together share a batch."""

    def __init__(self, repo: ShadowRepo) -> None:
        self.repo = repo
        self._waiting: list[tuple[MergeRequest, asyncio.Future[MergeOutcome]]] = []
        self._draining = False
        self._drainer: asyncio.Future[None] | None = None
        self._protected: Protected | None = None
        """`_protected_paths` of the workspace, built by the first batch (2 to 8 ms each time)."""
        self._known: str | None = None
        """The commit the last merge left the workspace equal to (`merge_onto`); before the first,
        the first child's checkpoint stands in for it."""

    async def merge(self, request: MergeRequest) -> MergeOutcome:
        """Queue `request` and wait for its outcome."""
        future: asyncio.Future[MergeOutcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if not self._draining:
            self._draining = True
            self._drainer = asyncio.ensure_future(self._drain())
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                known = self._known or batch[0][0].base  # a checkpoint: checked before each write too
                try:
                    if self._protected is None:
                        self._protected = await asyncio.to_thread(_protected_paths, self.repo.workspace)
                    outcomes, self._known = await asyncio.to_thread(
                        merge_onto, self.repo, [r for r, _ in batch], known, self._protected
                    )
                except Exception as exc:
                    self._known = None
                    for _, future in batch:
                        future.set_exception(exc)
                    continue
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    future.set_result(outcome)
        finally:
            self._draining = False


def _hunks(git: GitTarget, tree: str, conflicts: list[str], name: str) -> str:
    """The conflict regions of each file, with a little context, markers relabelled."""
    parts: list[str] = []
    for rel in conflicts:
        blob = run_git(git, "cat-file", "-p", f"{tree}:{rel}", ok=(0, 128))
        if blob.returncode != 0:  # e.g. modify/delete: no merged text to show
            parts.append(f"--- {rel}: changed on one side and deleted on the other")
            continue
        lines = blob.stdout.decode(errors="replace").splitlines()
        shown: list[str] = []
        inside = False
        for number, line in enumerate(lines, 1):
            if line.startswith("<<<<<<< "):
                inside = True
                shown.append(f"@@ line {number}")
                line = "<<<<<<< workspace"
            elif line.startswith(">>>>>>> "):
                line = f">>>>>>> {name}"
                inside = False
                shown.append(line)
                continue
            if inside:
                shown.append(line)
        if len(shown) > _MAX_HUNK_LINES:
            shown = [*shown[:_MAX_HUNK_LINES], f"... {len(shown) - _MAX_HUNK_LINES} more lines"]
        parts.append(f"--- {rel}\n" + "\n".join(shown))
    return "\n".join(parts)


def ref_safe(name: str) -> str:
    """`name` as a piece of a git ref (and a folder name): letters, digits, `-` and `_`."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:40] or "child"
