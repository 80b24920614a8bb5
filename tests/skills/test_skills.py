"""Skills: found in the peers' and our folders, listed in a few bytes, read through the skill tool."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from agent.errors import ToolFailure
from agent.skills.discovery import find_skills, skills_listing, skills_prompt
from agent.skills.skill_tool import SkillInput, SkillTool
from agent.tool import ToolContext
from tests.conftest import put


def skill(name: str, description: str, body: str = "do it well\n") -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n{body}"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "ws/.git").mkdir(parents=True)
    return (tmp_path / "ws").resolve()


def test_skills_from_every_folder_a_later_one_wins_a_name(ws: Path) -> None:
    put(Path(os.environ["CLAUDE_CONFIG_DIR"]), "skills/pdf/SKILL.md", skill("pdf", "user pdf"))
    put(Path(os.environ["XDG_CONFIG_HOME"]), "subagent/skills/deploy/SKILL.md", skill("deploy", "ship it"))
    put(ws, ".claude/skills/pdf/SKILL.md", skill("pdf", "project pdf"))
    put(ws, ".opencode/skill/review/SKILL.md", "---\ndescription: review   code\n  carefully\n---\nbody\n")
    put(ws, ".subagent/skills/broken/SKILL.md", "---\nname: [\n---\n")
    skills, errors = find_skills(ws)
    assert [(s.name, s.description) for s in skills] == [
        ("deploy", "ship it"), ("pdf", "project pdf"), ("review", "review code carefully"),
    ]  # fmt: skip
    assert len(errors) == 1 and "broken/SKILL.md: not loaded: invalid YAML" in errors[0]


def test_a_workspace_skill_that_leads_outside_is_left_out(ws: Path, tmp_path: Path) -> None:
    put(tmp_path, "elsewhere/evil/SKILL.md", skill("evil", "x"))
    (ws / ".claude/skills").mkdir(parents=True)
    (ws / ".claude/skills/evil").symlink_to(tmp_path / "elsewhere/evil")
    skills, errors = find_skills(ws)
    assert skills == [] and "outside the workspace" in errors[0]


def test_the_listing_is_small_and_stable(ws: Path) -> None:
    put(ws, ".claude/skills/b/SKILL.md", skill("b", "x" * 500))
    put(ws, ".claude/skills/a/SKILL.md", skill("a", "short"))
    skills, _ = find_skills(ws)
    listing = skills_listing(skills)
    assert listing.splitlines()[1:] == ["- a: short", "- b: " + "x" * 160]
    assert skills_listing(find_skills(ws)[0]) == listing
    preloaded = skills_prompt(skills, ["a", "nope"])
    assert '<skill name="a">\ndo it well\n</skill>' in preloaded and "(no skill 'nope' here)" in preloaded


def test_the_skill_tool_reads_a_home_skill_and_nothing_outside_it(ws: Path, tmp_path: Path) -> None:
    home_skill = put(
        Path(os.environ["CLAUDE_CONFIG_DIR"]), "skills/pdf/SKILL.md", skill("pdf", "d", "USE pdftotext\n")
    )
    put(home_skill.parent, "forms.md", "FORMS-GUIDE\n")
    put(tmp_path, "secret.txt", "CANARY-secret")
    (home_skill.parent / "link.txt").symlink_to(tmp_path / "secret.txt")
    tool = SkillTool(find_skills(ws)[0])
    ctx = ToolContext(workspace=ws, data_dir=tmp_path / "data")
    assert asyncio.run(tool.run(SkillInput(name="pdf"), ctx)).output == "USE pdftotext\n"
    assert asyncio.run(tool.run(SkillInput(name="pdf", file="forms.md"), ctx)).output == "FORMS-GUIDE\n"
    for escape in ("../../../secret.txt", "link.txt", str(tmp_path / "secret.txt")):
        with pytest.raises(ToolFailure, match="not inside"):
            asyncio.run(tool.run(SkillInput(name="pdf", file=escape), ctx))
    with pytest.raises(ToolFailure, match="no skill 'nope'"):
        asyncio.run(tool.run(SkillInput(name="nope"), ctx))
