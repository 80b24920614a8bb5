"""The check-then-open race: a process of the attacking user swaps a workspace folder for a symlink
to HOME as fast as it can, while the file tools read, search and write under that folder.

The swap is atomic (renameat2 RENAME_EXCHANGE of the folder and a symlink), so `d` is never
missing and a write never recreates it. A resolve-then-open-by-name reads the secret (the control:
a tiny script racing the same loop); the tools, which open what they checked without following a
link, never do. The swapper is a plain process of the same user rather than a bash call: a bash
call ends before the next turn (the sandbox kills what it started), and the calls of its own turn
finish before bubblewrap is up. It has the power sandboxed bash has over the workspace (write,
rename, plant links).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.security.attacker import SECRET_CANARY, Call, Site

SWAP = """
import ctypes, os, sys, time
workspace, stop = sys.argv[1], sys.argv[2]
os.chdir(workspace)
os.symlink(os.environ["HOME"], "d.link")
exchange = ctypes.CDLL(None, use_errno=True).renameat2
while not os.path.exists(stop):  # `d` is a folder, then a link to HOME, then a folder: never missing
    exchange(-100, b"d", -100, b"d.link", 2)  # RENAME_EXCHANGE: one atomic swap of the two names
    time.sleep(0.0001)
if os.path.islink("d"):
    exchange(-100, b"d", -100, b"d.link", 2)
"""

NAIVE = """
import os, sys
path, root = sys.argv[1], sys.argv[2]
for _ in range(300_000):
    try:
        if os.path.realpath(path).startswith(root + "/"):  # "inside the workspace": open it by name
            if "CANARY" in open(path).read():
                print("CROSSED")
                break
    except OSError:
        pass
"""


@contextmanager
def swapping(site: Site) -> Iterator[None]:
    """`d` (a decoy HOME inside the workspace) swapped for a symlink to the real HOME, in a loop."""
    decoy = site.workspace / "d"
    site.write(decoy / ".ssh" / "id_rsa", "decoy key\n")
    site.write(decoy / ".bashrc", "# decoy\n")
    stop = site.root / "stop"
    loop = threading.Thread(
        target=site.as_attacker,
        args=([sys.executable, "-c", SWAP, str(site.workspace), str(stop)],),
        kwargs={"timeout": 600},
    )
    loop.start()
    try:
        yield
    finally:
        site.write(stop, "")
        loop.join()


def _turns(mode: str, rounds: int) -> list[list[Call]]:
    turns = [[Call("read", {"file_path": "d/.bashrc"})]]
    for i in range(rounds):
        turn = [
            Call("read", {"file_path": "d/.ssh/id_rsa", "limit": 100 + i}),  # inputs vary: the loop
            Call("read", {"file_path": "d/.ssh/id_rsa", "offset": 1, "limit": 100 + i}),  # guard stops
            Call(
                "grep",
                {
                    "pattern": "CANARY|decoy",
                    "path": "d",
                    "output_mode": "content",  # repeats
                    "head_limit": 100 + i,
                },
            ),
            Call("glob", {"pattern": ["**/*", "**"][i % 2], "path": ["d", "./d"][i // 2 % 2]}),
        ]
        if mode == "bypass":
            turn += [
                Call("write", {"file_path": "d/.bashrc", "content": f"# pwned {i}\n"}),
                Call("write", {"file_path": "d/planted.txt", "content": f"{i}\n"}),
                Call(
                    "patch",
                    {"patch_text": f"*** Begin Patch\n*** Add File: d/patched-{i}.txt\n+x\n*** End Patch\n"},
                ),
            ]
        turns.append(turn)
    return turns


@pytest.mark.parametrize("mode", ["default", "bypass"])
def test_swapping_a_folder_for_a_symlink_never_leads_the_tools_out(site: Site, mode: str) -> None:
    bashrc = (site.home / ".bashrc").read_bytes()
    with swapping(site):
        control = site.as_attacker(
            [sys.executable, "-c", NAIVE, str(site.workspace / "d/.ssh/id_rsa"), str(site.workspace)],
            timeout=300,
        )
        assert "CROSSED" in control.stdout, control.stderr  # resolve-then-open reads the secret
        outcome = site.run(_turns(mode, 40), mode=mode, timeout=600)
    assert outcome.returncode == 0, (outcome.stdout[-3000:], outcome.stderr[-2000:])
    assert SECRET_CANARY not in outcome.everything_the_model_saw()
    assert (site.home / ".bashrc").read_bytes() == bashrc
    assert not list(site.home.glob("planted*")) and not list(site.home.glob("patched-*"))
    reads = [a for a in outcome.results if a.name == "read" and "limit" in a.input]
    assert any(a.text.endswith("decoy key") for a in reads)  # the race ran: both sides were met
    assert any(
        a.is_error and ("symbolic link" in a.text or "refused by the sandbox policy" in a.text) for a in reads
    )
    for answer in reads:
        assert answer.text.endswith("decoy key") or answer.is_error, answer.text
