"""Project instructions in a real session: in the system prompt, byte-identical on every request
(also after a resume), and a subfolder's AGENTS.md added once to a read result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.api import run_agent
from agent.model.scripted import ScriptedModel, load_script


async def _run(prompt: str | None, model: ScriptedModel, cwd: Path, **kw: Any) -> list[Any]:
    return [
        e
        async for e in run_agent(
            prompt, agent="explore", cwd=cwd, model_client=model, permission_mode="bypass", **kw
        )
    ]


async def test_instructions_reach_the_prompt_and_the_read_results(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("Use tabs.\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "AGENTS.md").write_text("In sub/, never import os.\n")
    (tmp_path / "sub" / "x.py").write_text("x = 1\n")
    script = tmp_path / "script.yaml"
    script.write_text(
        """
scripts:
  - replies:
      - tool_calls: [{name: read, input: {file_path: sub/x.py}}]
      - tool_calls: [{name: read, input: {file_path: sub/x.py}}]
      - text: first answer
      - text: second answer
"""
    )
    model = ScriptedModel(load_script(script))
    first = await _run("look at x", model, tmp_path)
    result = first[-1]
    assert result.subtype == "success", result
    await _run("and again", model, tmp_path, resume=result.session_id)
    systems = [r.system for r in model.requests]
    assert len(systems) == 4 and all(s == systems[0] for s in systems)
    prompt = "\n".join(block["text"] for block in systems[0])
    assert f'<instructions path="{tmp_path / "AGENTS.md"}">\nUse tabs.' in prompt
    assert "never import os" not in prompt
    outputs = [e.output for e in first if e.type == "tool_call_finished"]
    assert "never import os" in outputs[0] and str(tmp_path / "sub" / "AGENTS.md") in outputs[0]
    assert "never import os" not in outputs[1]
