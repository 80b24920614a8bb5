"""`agent.orchestrator.catfile`: answers read in order, skipped when not wanted, asked ahead."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import WorktreeError
from agent.orchestrator import catfile
from agent.orchestrator._git import run_git
from agent.sessions.checkpoints import ShadowRepo


def test_answers_not_read_are_skipped_and_a_missing_object_is_none(tmp_path: Path) -> None:
    """600 blobs (more than are asked ahead at once), every other one read, one missing: each read
    answer is its own blob's, whatever was skipped before it."""
    ws = tmp_path / "ws"
    ws.mkdir()
    repo = ShadowRepo(ws)
    repo.snapshot("made")
    texts = [f"blob {n}\n".encode() * (n % 7) for n in range(600)]
    ids = run_git(
        repo.git.target, "hash-object", "-w", "--stdin-paths", stdin=b"".join(_files(tmp_path, texts))
    ).stdout.split()
    names = [i.decode() for i in ids]
    names[301] = "0" * len(names[0])  # no such object

    with catfile.Batch(repo.git.target, names) as batch:
        for index in [*range(0, 300, 2), 301, *range(302, 600, 2)]:
            answer = batch.answer(index)
            if index == 301:
                assert answer is None
                continue
            assert answer is not None and answer[0] == b"blob"
            assert b"".join(catfile.content(batch.answers, answer[1])) == texts[index]


def _files(root: Path, texts: list[bytes]) -> list[bytes]:
    paths = []
    for n, text in enumerate(texts):
        (root / f"f{n}").write_bytes(text)
        paths.append(str(root / f"f{n}").encode() + b"\n")
    return paths


def test_an_answer_cut_short_is_an_error_not_a_hang(tmp_path: Path) -> None:
    import io

    with pytest.raises(WorktreeError, match="stopped"):
        list(catfile.content(io.BytesIO(b"abc"), 10))
    with pytest.raises(WorktreeError, match="stopped"):
        catfile.next_object(io.BytesIO(b""))
