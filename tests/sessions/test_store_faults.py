"""A damaged, truncated, locked or full `sessions.db`, met by real `subagent` processes.

Each fault is made for real (garbage bytes, a copy cut in half, another live process holding the
write lock, a small tmpfs filled up) and the commands must say which file and what to do, keep
everything (a damaged store is moved aside, never deleted), print no traceback, and work again once
the cause is gone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from agent.sessions.store import SqliteSessionStore
from agent.transcript import ToolResultBlock, parse_blocks
from agent.trust.store import set_trust
from tests.conftest import run_subagent, subprocess_env

DONE = {"scripts": [{"replies": [{"text": "Done."}]}]}


def _home() -> Path:
    return Path(os.environ["SUBAGENT_HOME"])


def _script(tmp_path: Path, script: dict[str, object] = DONE) -> Path:
    path = tmp_path / "script.yaml"
    path.write_text(yaml.safe_dump(script))
    return path


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / ".subagent").mkdir(parents=True, exist_ok=True)
    (ws / ".subagent" / "config.yaml").write_text("defaults: {sandbox: {kind: none}}\n")
    set_trust(ws, True)  # its config is the test's: bash unsandboxed, to fill a disk outside it
    return ws


def _run(tmp_path: Path, *extra: str, script: dict[str, object] = DONE) -> subprocess.CompletedProcess[str]:
    return run_subagent(
        "run",
        "hello",
        "--script",
        str(_script(tmp_path, script)),
        "--cwd",
        str(_workspace(tmp_path)),
        "--output",
        "json",
        "--permission-mode",
        "bypass",
        *extra,
    )


def _seed(path: Path, sessions: int = 30) -> list[str]:
    """A real store with sessions and messages (about a megabyte)."""
    store = SqliteSessionStore(path)
    ids = []
    for _ in range(sessions):
        sid = store.create(agent="a", workspace=path.parent).id
        ids.append(sid)
        for _ in range(8):
            store.append_message(sid, "user", parse_blocks([{"type": "text", "text": "x" * 4000}]))
    store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return ids


def _set_aside(home: Path) -> list[Path]:
    return sorted(p for p in home.glob("sessions.db.damaged-*") if not p.name.endswith(("-wal", "-shm")))


def test_a_store_that_is_not_a_database_is_moved_aside_and_a_new_one_started(tmp_path: Path) -> None:
    home = _home()
    home.mkdir(parents=True, exist_ok=True)
    garbage = os.urandom(50_000)
    (home / "sessions.db").write_bytes(garbage)

    listed = run_subagent("sessions", "list", "--all")
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr
    moved = _set_aside(home)
    assert len(moved) == 1 and moved[0].read_bytes() == garbage  # kept whole, never deleted
    assert str(home / "sessions.db") in listed.stderr and str(moved[0]) in listed.stderr
    assert "started a new" in listed.stderr

    ran = _run(tmp_path)
    assert ran.returncode == 0, ran.stderr
    sid = json.loads(ran.stdout)["session_id"]
    assert sid in run_subagent("sessions", "list", "--all").stdout


def test_a_truncated_store_is_moved_aside_and_the_run_goes_on(tmp_path: Path) -> None:
    home = _home()
    home.mkdir(parents=True, exist_ok=True)
    _seed(home / "sessions.db")
    whole = (home / "sessions.db").read_bytes()
    (home / "sessions.db").write_bytes(whole[: len(whole) // 2])

    ran = _run(tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr and "malformed" in ran.stderr
    moved = _set_aside(home)
    assert len(moved) == 1 and moved[0].read_bytes() == whole[: len(whole) // 2]
    listed = SqliteSessionStore(home / "sessions.db").list()
    assert [s.id for s in listed] == [json.loads(ran.stdout)["session_id"]]


def test_damage_found_while_reading_is_reported_then_moved_aside_on_the_next_start(tmp_path: Path) -> None:
    home = _home()
    home.mkdir(parents=True, exist_ok=True)
    ids = _seed(home / "sessions.db")
    path = home / "sessions.db"
    pages = path.stat().st_size // 4096
    with open(path, "r+b") as db:  # the last pages hold the newest messages, not the sessions table
        for page in range(pages - 6, pages - 1):
            db.seek(page * 4096)
            db.write(os.urandom(4096))

    shown = run_subagent("sessions", "show", ids[-1])
    assert shown.returncode == 1
    assert "Traceback" not in shown.stderr
    assert str(path) in shown.stderr and "damaged" in shown.stderr and "moves it aside" in shown.stderr
    assert _set_aside(home) == []  # reported, nothing moved while it was in use

    listed = run_subagent("sessions", "list", "--all")
    assert listed.returncode == 0, listed.stderr
    assert len(_set_aside(home)) == 1 and "moved it to" in listed.stderr


_HOLDER = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    if sys.argv[2] == "exclusive":
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
    else:
        conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE sessions SET title = title")
    print("holding", flush=True)
    time.sleep(300)
""")


@pytest.fixture
def holder() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()


def _hold(started: list[subprocess.Popen[str]], path: Path, how: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), how],
        stdout=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    started.append(proc)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def test_a_run_against_a_store_another_process_holds_names_it_and_stops(
    tmp_path: Path, holder: list[subprocess.Popen[str]]
) -> None:
    home = _home()
    home.mkdir(parents=True, exist_ok=True)
    _seed(home / "sessions.db", sessions=1)
    other = _hold(holder, home / "sessions.db", "write")

    ran = _run(tmp_path)
    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr
    assert f"pid {other.pid}" in ran.stderr and str(home / "sessions.db") in ran.stderr
    assert "waiting up to" in ran.stderr  # it said whom it waited for, not 30 s of silence
    assert "stop it" in ran.stderr

    other.kill()
    other.wait()
    again = _run(tmp_path)
    assert again.returncode == 0, again.stderr


def test_listing_a_store_another_process_holds_exclusively_names_it(
    holder: list[subprocess.Popen[str]],
) -> None:
    home = _home()
    home.mkdir(parents=True, exist_ok=True)
    _seed(home / "sessions.db", sessions=1)
    other = _hold(holder, home / "sessions.db", "exclusive")
    listed = run_subagent("sessions", "list", "--all")
    assert listed.returncode == 1 and "Traceback" not in listed.stderr
    assert f"pid {other.pid}" in listed.stderr and "locked" in listed.stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs of our own (root only), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = Path("/var/tmp") / f"subagent-full-{os.getpid()}-{tmp_path.name}"
    mount.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_says_which_path_and_how_much_then_works_once_freed(
    tmp_path: Path, small_disk: Path
) -> None:
    home = small_disk / "data"
    filler = _fill(small_disk)
    ran = run_subagent(
        "run",
        "hello",
        "--script",
        str(_script(tmp_path)),
        "--cwd",
        str(_workspace(tmp_path)),
        "--output",
        "json",
        SUBAGENT_HOME=str(home),
    )
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    assert "no space left" in ran.stderr and str(small_disk) in ran.stderr and "more is needed" in ran.stderr

    filler.unlink()
    again = run_subagent(
        "run",
        "hello",
        "--script",
        str(_script(tmp_path)),
        "--cwd",
        str(_workspace(tmp_path)),
        "--output",
        "json",
        SUBAGENT_HOME=str(home),
    )
    assert again.returncode == 0, again.stderr


def test_a_run_whose_disk_fills_mid_way_stops_cleanly_and_resumes_once_freed(
    tmp_path: Path, small_disk: Path
) -> None:
    home = small_disk / "data"
    filler = small_disk / "filler"
    fill = f"head -c 8000000 /dev/zero > {filler}; echo filled"
    script = {
        "scripts": [
            {
                "replies": [
                    {"tool_calls": [{"name": "bash", "id": "toolu_fill", "input": {"command": fill}}]},
                    {"text": "Done after the disk filled."},
                ]
            }
        ]
    }
    ws = _workspace(tmp_path)
    path = _script(tmp_path, script)
    ran = run_subagent(
        "run",
        "fill the disk",
        "--script",
        str(path),
        "--cwd",
        str(ws),
        "--output",
        "json",
        "--permission-mode",
        "bypass",
        SUBAGENT_HOME=str(home),
    )
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    result = json.loads(ran.stdout)
    assert result["subtype"] == "error_during_execution"
    assert "no space left" in result["result"] and "--resume" in result["result"]
    sid = result["session_id"]

    filler.unlink()
    resumed = run_subagent(
        "run",
        "go on",
        "--resume",
        sid,
        "--script",
        str(path),
        "--cwd",
        str(ws),
        "--output",
        "json",
        "--permission-mode",
        "bypass",
        SUBAGENT_HOME=str(home),
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["result"] == "Done after the disk filled."
    stored = SqliteSessionStore(home / "sessions.db").messages(sid)
    results = [b for m in stored for b in m.content if isinstance(b, ToolResultBlock)]
    answers = [b for b in results if b.tool_use_id == "toolu_fill"]
    assert len(answers) == 1 and answers[0].is_error is True  # told it was interrupted, once
    assert [m.role for m in stored] == ["user", "assistant", "user", "assistant"]


async def test_an_mcp_client_is_told_which_process_holds_the_store(
    tmp_path: Path, holder: list[subprocess.Popen[str]]
) -> None:
    from mcp import Client, StdioServerParameters

    home = _home()
    home.mkdir(parents=True, exist_ok=True)
    _seed(home / "sessions.db", sessions=1)
    other = _hold(holder, home / "sessions.db", "write")
    ws = _workspace(tmp_path)
    argv = ["-m", "agent", "mcp", "--script", str(_script(tmp_path))]
    params = StdioServerParameters(command=sys.executable, args=argv, env=subprocess_env(), cwd=str(ws))
    async with Client(params) as client:
        ran = await client.call_tool("run_task", {"prompt": "hello", "cwd": str(ws)})
        looked_up = await client.call_tool("reply", {"session_id": "ses_any", "prompt": "x"})
    assert ran.is_error
    text = ran.content[0].text
    assert f"pid {other.pid}" in text and str(home / "sessions.db") in text and "Traceback" not in text
    assert "no session 'ses_any'" in looked_up.content[0].text  # reading is not blocked by a writer
