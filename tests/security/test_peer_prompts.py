"""Skills and custom commands of a Claude Code and an opencode project reach the model, through a
real `subagent run` as an unprivileged user; a skill in HOME is read through the skill tool, which
the read tool (HOME hidden) cannot do: the control."""

from __future__ import annotations

import json

import pytest

from tests.security.attacker import Call, Site

pytestmark = pytest.mark.bwrap


def test_a_claude_code_projects_skills_and_command_reach_the_model(site: Site) -> None:
    home_skill = site.write(
        ".claude/skills/pdf/SKILL.md", "---\nname: pdf\ndescription: PDF-DESC\n---\nPDF-BODY-41\n"
    )
    site.write(
        "project/.claude/skills/deploy/SKILL.md", "---\nname: deploy\ndescription: DEPLOY-DESC\n---\nsteps\n"
    )
    site.write(
        "project/.claude/commands/review.md", "---\ndescription: review\n---\nREVIEW-TEMPLATE: look at @$1\n"
    )
    turns = [[Call("skill", {"name": "pdf"})], [Call("read", {"file_path": str(home_skill)})]]
    done = site.run(turns, prompt="/review app.py")
    first = json.dumps(done.requests[0])
    assert "REVIEW-TEMPLATE: look at @app.py" in first and "print('hello')" in first  # the command and @file
    assert "- deploy: DEPLOY-DESC" in first and "- pdf: PDF-DESC" in first  # the listing
    assert "PDF-BODY-41" not in first  # bodies are read on demand
    skill, read = done.results
    assert not skill.is_error and "PDF-BODY-41" in skill.text
    assert read.is_error and "PDF-BODY-41" not in read.text  # the control: HOME is hidden from read


def test_an_opencode_projects_command_and_skill_reach_the_model(site: Site) -> None:
    command = {"ship": {"template": "SHIP-TEMPLATE version $ARGUMENTS", "description": "ship"}}
    site.write("project/opencode.json", json.dumps({"command": command}))
    site.write("project/.opencode/skills/notes/SKILL.md", "---\ndescription: NOTES-DESC\n---\nNOTES-BODY\n")
    done = site.run([[Call("skill", {"name": "notes"})]], prompt="v2", args=["--command", "ship"])
    first = json.dumps(done.requests[0])
    assert "SHIP-TEMPLATE version v2" in first and "- notes: NOTES-DESC" in first
    assert "NOTES-BODY" in done.results[0].text
