"""Checkpoint cost: one snapshot of a 10,000-file workspace in which one file changed.

References, measured in the same run on copies of the same tree: plain `git add -A && git
write-tree` in an ordinary repository (what any git-based checkpoint must at least pay), and the
same checkpoints through the runner they used before `agent.hostgit` (gitpython, the inherited
environment, no `-c` settings, no pinned config): the price of the hardening. Prints JSON lines
`{"name", "value", "reference", "ratio"}`; times are medians in milliseconds, the steps
interleaved round by round so that load from elsewhere weighs on every side alike.

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

from agent.sessions._shadow_git import IDENTITY, ShadowGit
from agent.sessions.checkpoints import ShadowRepo
from bench._figures import emit


class UnhardenedShadowGit(ShadowGit):
    """How checkpoints ran git before `agent.hostgit`: gitpython's `execute` with the inherited
    environment plus the shadow repository's variables, no `-c` settings, no pinned files."""

    def run(self, *args: str, index: Path | None = None, stdin: bytes | None = None) -> str:
        import git

        env = {
            "GIT_DIR": str(self.git_dir),
            "GIT_WORK_TREE": str(self.workspace),
            "GIT_INDEX_FILE": str(index or self.index),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
        }
        for who in ("AUTHOR", "COMMITTER"):
            env[f"GIT_{who}_NAME"], env[f"GIT_{who}_EMAIL"] = IDENTITY
        runner = git.Git(self.workspace)
        if stdin is None:
            return str(runner.execute(["git", *args], env=env, strip_newline_in_stdout=False))
        with tempfile.TemporaryFile() as handle:
            handle.write(stdin)
            handle.seek(0)
            return str(runner.execute(["git", *args], env=env, istream=handle, strip_newline_in_stdout=False))


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
        ours, before, plain = base / "ours", base / "before", base / "plain"
        make_tree(ours, args.files)
        shutil.copytree(ours, before)
        shutil.copytree(ours, plain)
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
        subprocess.run(["git", "init", "-q"], cwd=plain, check=True, env=env)
        time.sleep(1.1)  # files older than the index, as in a real workspace (no racy-git rehashing)
        repo = ShadowRepo(ours)
        unhardened = ShadowRepo(before)
        unhardened.git = UnhardenedShadowGit(unhardened.git.git_dir, unhardened.workspace)
        for warm in (repo, unhardened):
            warm.snapshot("warm-up")
        subprocess.run(
            "git add -A && git write-tree", shell=True, cwd=plain, check=True, env=env, capture_output=True
        )

        def changed_step(shadow: ShadowRepo) -> Callable[[int], None]:
            def step(i: int) -> None:
                (shadow.workspace / "pkg042" / "mod07.py").write_text(f"changed {i}\n")
                shadow.snapshot(f"step {i}")

            return step

        def plain_step(i: int) -> None:
            (plain / "pkg042" / "mod07.py").write_text(f"changed {i}\n")
            subprocess.run(
                "git add -A && git write-tree",
                shell=True,
                cwd=plain,
                check=True,
                env=env,
                capture_output=True,
            )

        reference, changed, changed_before, unchanged, unchanged_before = interleaved_medians(
            [
                plain_step,
                changed_step(repo),
                changed_step(unhardened),
                lambda i: repo.snapshot("no change"),
                lambda i: unhardened.snapshot("no change"),
            ],
            args.rounds,
        )
        for name, value in [
            (f"snapshot_ms_one_changed_of_{args.files}", changed),
            (f"snapshot_ms_unchanged_of_{args.files}", unchanged),
        ]:
            emit(
                name,
                value,
                reference,
                unit="ms",
                reference_name="git add -A && git write-tree",
                aim="< 50 ms",
                digits=2,
            )
        hardened = [
            (f"hardened_snapshot_ms_one_changed_of_{args.files}", changed, changed_before),
            (f"hardened_snapshot_ms_unchanged_of_{args.files}", unchanged, unchanged_before),
        ]
        for name, value, was in hardened:
            emit(
                name,
                value,
                was,
                unit="ms",
                reference_name="the same snapshot before agent.hostgit",
                aim="<= 1.1x",
                digits=2,
            )


if __name__ == "__main__":
    main()
