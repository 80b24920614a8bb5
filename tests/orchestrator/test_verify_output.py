"""What a child reads of a failed verify command: the program's text, without its colour codes."""

from __future__ import annotations

from pathlib import Path

from agent.orchestrator.verify import feedback_prompt, run_verify
from agent.sandbox.unsandboxed import UnsandboxedRunner

FAILING_TESTS = r"printf '\033[31mFAILED\033[0m tests/test_app.py::test_sum \033]0;title\007\n'; exit 1"


async def test_verify_output_reaches_the_child_without_escape_sequences(tmp_path: Path) -> None:
    run = await run_verify(FAILING_TESTS, UnsandboxedRunner(), tmp_path)
    assert not run.passed and run.exit_code == 1
    assert run.output == "FAILED tests/test_app.py::test_sum \n"
    assert "FAILED tests/test_app.py::test_sum \n" in feedback_prompt(FAILING_TESTS, run, 1, 2)
