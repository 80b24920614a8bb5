"""Whose change is whose in a workspace: what `subagent undo` of one session may revert.

Only one run changes a workspace at a time (`leftovers.workspace_for_run`), so the workspace's
history is a line of snapshots: each checkpoint (taken before a step of one session) and each mark
(the end of a run, an undo). The span from one point to the next belongs to the session whose
step it began with; a span that begins at a mark belongs to no session (a person's edits between
runs, an undo). Diffing the spans says which sessions changed each file since a checkpoint.

A run killed mid-step leaves no end mark: its last span reaches to the next point (the next run's
first checkpoint), so a person's edits in between count as its own. The API is synchronous (git).
"""

from datetime import datetime

from pydantic import BaseModel

from agent.sessions.base import SessionStore
from agent.sessions.checkpoints import ShadowRepo


class Owners(BaseModel):
    """Who changed each file of a workspace since a point in time."""

    by_path: dict[str, list[str | None]] = {}
    """Path (relative) -> the sessions whose steps changed it, in order; None: no session did."""

    def of(self, path: str) -> list[str | None]:
        return self.by_path.get(path, [])


def owners_since(store: SessionStore, repo: ShadowRepo, since: datetime, now: str) -> Owners:
    """Which sessions changed which files from `since` to the snapshot `now`."""
    workspace = repo.workspace
    checkpoints = store.workspace_checkpoints(workspace)
    points: list[tuple[datetime, str, str | None]] = [
        (c.created, c.commit, c.session_id) for c in checkpoints if c.created >= since
    ]
    points += [(m.created, m.commit, None) for m in store.marks(workspace) if m.created >= since]
    points.sort(key=lambda point: point[0])
    spans: list[tuple[str, str, str | None]] = []  # (from, to, owner): consecutive same-owner points merge
    for _, commit, owner in points:
        if spans and spans[-1][2] == owner:
            continue
        if spans:
            spans[-1] = (spans[-1][0], commit, spans[-1][2])
        spans.append((commit, commit, owner))
    if spans:
        spans[-1] = (spans[-1][0], now, spans[-1][2])
    found = Owners()
    for start, end, owner in spans:
        if start == end:
            continue
        for change in repo.changed_files(start, end):
            who = found.by_path.setdefault(change.path, [])
            if owner not in who:
                who.append(owner)
    return found


def plan_owners(
    store: SessionStore, session_id: str, owners: Owners, paths: list[str]
) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """Split the files an undo of `session_id` would touch into (its own, others' by session, nobody's).

    Its own: files its session tree changed (each may also have been changed by others later,
    listed in the second part too). Others': files other sessions changed, with those sessions.
    Nobody's: files changed by no session's step (a person's edits).
    """
    tree = store.session_tree(session_id)
    mine: list[str] = []
    others: dict[str, list[str]] = {}
    nobody: list[str] = []
    for path in paths:
        who = owners.of(path)
        foreign = [s for s in who if s is not None and s not in tree]
        if foreign:
            others[path] = [_root(store, s) for s in foreign]
        if any(s in tree for s in who if s is not None):
            mine.append(path)
        elif not foreign:
            nobody.append(path)
    return mine, others, nobody


def _root(store: SessionStore, session_id: str) -> str:
    """The top-level session a subagent session belongs to (what a person ran)."""
    record = store.get(session_id)
    while record.parent_id is not None:
        record = store.get(record.parent_id)
    return record.id
