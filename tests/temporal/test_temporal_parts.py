"""The Temporal executor's parts that need no server: payloads, workspaces, task files, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import ConfigError, RunError, WorkspaceFetchError
from agent.orchestrator.base import SubtaskCheckpoint, SubtaskResult, SubtaskSpec
from agent.orchestrator.temporal.models import WorkspaceRef
from agent.orchestrator.temporal.payloads import BlobStore, pack, unpack
from agent.orchestrator.temporal.workspace import (
    apply_patch,
    pin_workspace,
    prepare_workspace,
    workspace_patch,
)
from tests.conftest import REPO_ROOT, run_subagent, subprocess_env
from tests.temporal.harness import free_port


def _result(text: str) -> SubtaskResult:
    return SubtaskResult(id="t1", agent="a", status="success", result=text)


def test_a_small_result_travels_inline_compressed(tmp_path: Path) -> None:
    result = _result("ok " * 10_000)
    envelope = pack(result, name="t1", store=BlobStore(tmp_path), inline_limit=1024 * 1024)
    assert envelope.kind == "inline" and envelope.stored_size < envelope.raw_size / 10
    assert unpack(envelope, SubtaskResult) == result
    assert list(tmp_path.iterdir()) == []


def test_a_large_result_goes_by_reference_and_reads_back(tmp_path: Path) -> None:
    result = _result(os.urandom(1_600_000).hex())
    store = BlobStore((tmp_path / "blobs").as_uri())
    envelope = pack(result, name="t1/result", store=store, inline_limit=1024 * 1024)
    assert envelope.kind == "ref" and envelope.ref.startswith("file://") and not envelope.data
    assert unpack(envelope, SubtaskResult) == result
    assert pack(result, name="t1/result", store=store, inline_limit=1024 * 1024).ref == envelope.ref


def test_a_blob_that_is_gone_says_the_directory_must_be_shared(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    envelope = pack(_result(os.urandom(40_000).hex()), name="t1", store=store, inline_limit=100)
    Path(envelope.ref.removeprefix("file://")).unlink()
    with pytest.raises(RunError, match="shared between the workers and the dispatcher"):
        unpack(envelope, SubtaskResult)


def test_a_blob_location_that_is_not_a_file_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="only file:// URLs"):
        BlobStore("s3://bucket/blobs")


def test_checkpoint_bytes_survive_the_json_round_trip() -> None:
    checkpoint = SubtaskCheckpoint(turn=3, patch="diff", transcript=b"\x00\xffzlib")
    assert SubtaskCheckpoint.model_validate_json(checkpoint.model_dump_json()) == checkpoint


def _repo(path: Path) -> str:
    path.mkdir()
    (path / "a.txt").write_text("one\n")
    for args in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init"],
    ):
        subprocess.run(["git", *args], cwd=path, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True)
    return head.stdout.strip()


async def test_a_checkout_plus_the_checkpoint_patch_restores_the_work(tmp_path: Path) -> None:
    commit = _repo(tmp_path / "repo")
    ref = pin_workspace(SubtaskSpec(id="t1", agent="a", prompt="p"), tmp_path / "repo")
    assert ref == WorkspaceRef(source=str(tmp_path / "repo"), commit=commit)

    first = await prepare_workspace("t1", ref, tmp_path / "attempt1")
    (first / "a.txt").write_text("one\ntwo\n")
    (first / "new.bin").write_bytes(b"\x00\x01binary")
    patch = await workspace_patch(first)

    second = await prepare_workspace("t1", ref, tmp_path / "attempt2")
    await apply_patch(second, patch)
    assert (second / "a.txt").read_text() == "one\ntwo\n"
    assert (second / "new.bin").read_bytes() == b"\x00\x01binary"


async def test_a_commit_that_does_not_exist_names_the_subtask_and_the_source(tmp_path: Path) -> None:
    _repo(tmp_path / "repo")
    ref = WorkspaceRef(source=(tmp_path / "repo").as_uri(), commit="f" * 40)
    with pytest.raises(WorkspaceFetchError) as caught:
        await prepare_workspace("add-endpoint", ref, tmp_path / "attempt")
    message = str(caught.value)
    assert "add-endpoint" in message and "f" * 40 in message and str(tmp_path / "repo") in message


def test_a_git_url_without_a_commit_is_pinned_to_the_remote_head(tmp_path: Path) -> None:
    commit = _repo(tmp_path / "repo")
    url = (tmp_path / "repo").as_uri()
    ref = pin_workspace(SubtaskSpec(id="t1", agent="a", prompt="p", cwd=url), tmp_path)
    assert ref == WorkspaceRef(source=url, commit=commit)
    with pytest.raises(ConfigError, match="subtask t2: cannot read HEAD of file:///nowhere"):
        pin_workspace(SubtaskSpec(id="t2", agent="a", prompt="p", cwd="file:///nowhere"), tmp_path)


async def test_repeated_subtask_ids_are_refused_before_anything_starts(
    tmp_path: Path, temporal_sdk: None
) -> None:
    from agent.orchestrator.temporal.client import TemporalDispatcher
    from agent.orchestrator.temporal.connection import TemporalSettings

    spec = SubtaskSpec(id="same", agent="a", prompt="p")
    dispatcher = TemporalDispatcher(TemporalSettings(address=f"127.0.0.1:{free_port()}"), cwd=tmp_path)
    with pytest.raises(ConfigError, match="repeated: same"):
        await dispatcher.run([spec, spec])


def test_a_workspace_that_is_not_a_repository_cannot_be_pinned(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"subtask t9: .*remote workers need a git repository"):
        pin_workspace(SubtaskSpec(id="t9", agent="a", prompt="p", cwd=str(tmp_path)), tmp_path)


def test_a_missing_temporal_extra_is_a_clear_error() -> None:
    code = (
        "import sys; sys.modules['temporalio'] = None; sys.argv = ['subagent', 'worker']; "
        "from agent.cli.main import main; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert "pip install 'subagent-runtime[temporal]'" in done.stderr


def test_a_runner_that_cannot_be_imported_stops_the_worker_before_connecting(temporal_sdk: None) -> None:
    address = f"127.0.0.1:{free_port()}"
    done = run_subagent("worker", "--temporal-address", address, "--runner", "no_such_module:run")
    assert done.returncode == 2
    assert "--runner no_such_module:run: cannot import no_such_module" in done.stderr
