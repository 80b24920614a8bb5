"""A resumed session numbers its checkpoints on, so one prompt's steps do not replace another's."""

from __future__ import annotations

from pathlib import Path

from agent.api import run_agent
from agent.model.scripted import ScriptedModel, load_script
from agent.sessions.store import SqliteSessionStore

SCRIPT = """
scripts:
  - replies:
      - tool_calls: [{name: write, input: {file_path: a.txt, content: "a"}}]
      - text: wrote a
      - tool_calls: [{name: write, input: {file_path: b.txt, content: "b"}}]
      - text: wrote b
"""


async def test_checkpoint_steps_continue_across_resumed_runs(tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    script.write_text(SCRIPT)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    model = ScriptedModel(load_script(script))
    session_id = None
    for prompt in ("write a", "write b"):
        async for event in run_agent(
            prompt, agent="backend-engineer", cwd=workspace, model_client=model,
            permission_mode="bypass", resume=session_id,
        ):  # fmt: skip
            session_id = event.session_id
    assert session_id is not None
    steps = [(c.step, c.label) for c in SqliteSessionStore().checkpoints(session_id)]
    assert steps == [(1, "write a.txt"), (2, "write b.txt")]
