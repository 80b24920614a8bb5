"""`git cat-file --batch`, its output read in one place.

Each answer is a header line, `<id> <type> <size>`, then the content and a newline; an object git
cannot find is one line, `<name> missing` (or `ambiguous`). `next_object` reads that line for
every caller and returns None for such an object: the caller decides what that means (a folder
that is no folder in that commit for `treeedit`, a broken shadow repository for `materialise`).
`content` yields what follows in chunks, so `Batch`, one process whose answers are read as they
are wanted, lets a merge of a large file hold one chunk in memory, not the file.
"""

from __future__ import annotations

import string
import subprocess
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import IO

from agent.errors import WorktreeError
from agent.hostgit import runner
from agent.hostgit.runner import GitTarget

_CHUNK = 1 << 20
_HEX = string.hexdigits.encode()


def next_object(stream: IO[bytes]) -> tuple[bytes, int] | None:
    """The type and size of the next answer in `stream`, or None when git found no such object.

    Raises:
        WorktreeError: the output ended before the answer (git stopped).
    """
    line = stream.readline()
    if not line.endswith(b"\n"):
        raise WorktreeError("git cat-file --batch stopped before answering")
    parts = line[:-1].split(b" ")
    if len(parts) != 3 or not parts[2].isdigit() or not _is_id(parts[0]):
        return None  # "<name> missing": a name may hold spaces, an id and a size do not
    return parts[1], int(parts[2])


def content(stream: IO[bytes], size: int) -> Iterator[bytes]:
    """The `size` bytes of the answer whose header was just read, in chunks; then its newline.

    Raises:
        WorktreeError: the output ended before them.
    """
    left = size
    while left:
        chunk = stream.read(min(left, _CHUNK))
        if not chunk:
            raise WorktreeError("git cat-file --batch stopped in the middle of an object")
        left -= len(chunk)
        yield chunk
    if stream.read(1) != b"\n":
        raise WorktreeError("git cat-file --batch stopped in the middle of an object")


def _is_id(word: bytes) -> bool:
    return len(word) in (40, 64) and not word.translate(None, _HEX)


class Batch:
    """One `git cat-file --batch --buffer` process on `target` asked for `names`, whose answers are
    read in order (`answer`); a context manager, which stops git on the way out.

    A thread writes the names while the answers are read: asking one at a time and waiting costs
    a round trip each (2,000 small files: 0.56 s of CPU against 0.32 s for one bulk run), and
    writing them all first could block on a full pipe while git blocks on its full output.
    """

    def __init__(self, target: GitTarget, names: list[str]) -> None:
        runner.enforce_pins(target)
        self.process = subprocess.Popen(
            runner.git_command(target, ("cat-file", "--batch", "--buffer")),
            cwd=target.work_tree or target.git_dir,
            env=runner.git_environment(target),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.answers = self.process.stdout
        self.count = len(names)
        self.read = 0
        """How many answers were read."""
        self.asking = threading.Thread(target=_ask, args=(self.process.stdin, names), daemon=True)
        self.asking.start()

    def answer(self, index: int) -> tuple[bytes, int] | None:
        """The type and size of `names[index]`, whose content `content(self.answers, size)` reads
        next (None when there is no such object); the answers before it not read yet are skipped.
        Answers are read in order: `index` is past the last one read.
        """
        assert index >= self.read, "cat-file answers are read in order"
        while self.read < index:
            self.read += 1
            if (skipped := next_object(self.answers)) is not None:
                for _ in content(self.answers, skipped[1]):
                    pass
        self.read += 1
        return next_object(self.answers)

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is not None or self.read < self.count:
            self.process.kill()
        self.answers.close()
        self.asking.join()
        self.process.wait()


def _ask(stdin: IO[bytes], names: list[str]) -> None:
    """Write `names` to git, a line each, then close its input (git stopped: nothing more)."""
    try:
        with stdin:
            for name in names:
                stdin.write(name.encode() + b"\n")
    except (BrokenPipeError, ValueError):
        pass
