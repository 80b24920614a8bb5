"""Checkpoint cost: one snapshot of a 10,000-file workspace in which one file changed.

Reference, measured in the same run on the same tree: plain `git add -A && git write-tree` in an
ordinary repository (what any git-based checkpoint must at least pay). Prints JSON lines
`{"name", "value", "reference", "ratio"}`; times are medians in milliseconds, the steps
interleaved round by round so that load from elsewhere weighs on both sides alike.

    /work/venv/bin/python bench/bench_checkpoint.py [--files 10000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.sessions.checkpoints import ShadowRepo
from bench._figures import emit


def make_tree(root: Path, files: int) -> None:
    for i in range(files):
        folder = root / f"pkg{i // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{i % 100:02d}.py").write_text(f"# module {i}\nVALUE = {i}\n" + "x = 1\n" * 20)


def timed_ms(step: Callable[[int], None], i: int) -> float:
    start = time.perf_counter()
    step(i)
    return (time.perf_counter() - start) * 1000


def interleaved_medians(steps: list[Callable[[int], None]], rounds: int) -> list[float]:
    """Run the steps in turn each round, so a busy machine slows them all alike."""
    samples: list[list[float]] = [[] for _ in steps]
    for i in range(rounds):
        for step, bucket in zip(steps, samples, strict=True):
            bucket.append(timed_ms(step, i))
    return [statistics.median(bucket) for bucket in samples]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        os.environ["SUBAGENT_HOME"] = str(base / "home")
        ours, plain = base / "ours", base / "plain"
        make_tree(ours, args.files)
        shutil.copytree(ours, plain)
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
        subprocess.run(["git", "init", "-q"], cwd=plain, check=True, env=env)
        time.sleep(1.1)  # files older than the index, as in a real workspace (no racy-git rehashing)
        repo = ShadowRepo(ours)
        repo.snapshot("warm-up")
        subprocess.run("git add -A && git write-tree", shell=True, cwd=plain, check=True, env=env,
                       capture_output=True)

        def ours_step(i: int) -> None:
            (ours / "pkg042" / "mod07.py").write_text(f"changed {i}\n")
            repo.snapshot(f"step {i}")

        def plain_step(i: int) -> None:
            (plain / "pkg042" / "mod07.py").write_text(f"changed {i}\n")
            subprocess.run("git add -A && git write-tree", shell=True, cwd=plain, check=True, env=env,
                           capture_output=True)

        def unchanged_step(i: int) -> None:
            repo.snapshot("no change")

        reference, changed, unchanged = interleaved_medians([plain_step, ours_step, unchanged_step],
                                                            args.rounds)
        rows = [(f"snapshot_ms_one_changed_of_{args.files}", changed),
                (f"snapshot_ms_unchanged_of_{args.files}", unchanged)]
        for name, value in rows:
            emit(name, value, reference, unit="ms", reference_name="git add -A && git write-tree",
                 aim="< 50 ms", digits=2)


if __name__ == "__main__":
    main()
