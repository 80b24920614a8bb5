"""Find the skills a run can use: `<folder>/<skill>/SKILL.md`, in this order (a later one wins a
name):

1. the user's: `~/.claude/skills/`, then `$XDG_CONFIG_HOME/subagent/skills/`;
2. the workspace's: `.claude/skills/`, `.opencode/skill/`, `.opencode/skills/`, `.subagent/skills/`.

`SKILL.md` is YAML frontmatter (`name`, `description`, optional `allowed-tools`, ignored here)
and a markdown body (the Agent Skills format Claude Code, opencode and Codex read). A skill is
prompt text, like a persona's body, so a workspace's skills need no trust; but a workspace skill
that leads outside the workspace (a link) is left out, and one that does not load is an error
line for `subagent doctor`, never a failed run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import agent.registry.yaml_text as yaml_text
from agent.errors import PersonaError
from agent.paths import claude_home, config_home
from agent.registry.persona import split_frontmatter
from agent.trust.confine import outside, read_resolved

WORKSPACE_SKILL_DIRS = (".claude/skills", ".opencode/skill", ".opencode/skills", ".subagent/skills")
MAX_SKILL_BYTES = 256 * 1024
DESCRIPTION_CHARS = 160
"""The longest description the prompt lists (a longer one is cut): the listing stays small."""


@dataclass(frozen=True, eq=False, repr=False)
class Skill:
    """A skill found on disk: its SKILL.md's name and description, and where it is."""

    name: str
    description: str
    folder: Path
    """The skill's folder, resolved: the skill tool reads inside it only."""
    file: Path
    """Its SKILL.md, resolved when it was found: what is read later (a link put there since is
    refused, as is a folder on the way made a link: `read_resolved`)."""


def _read(path: Path) -> tuple[dict[str, object], str]:
    """The frontmatter and body of a SKILL.md (a resolved path); ValueError with the reason when
    it does not load."""
    try:
        data, _ = read_resolved(path, MAX_SKILL_BYTES + 1)
    except OSError as exc:
        raise ValueError(exc.strerror) from exc
    if len(data) > MAX_SKILL_BYTES:
        raise ValueError(f"larger than {MAX_SKILL_BYTES} bytes")
    try:
        front, body = split_frontmatter(data.decode("utf-8", errors="replace"), path)
    except PersonaError as exc:
        raise ValueError(exc.reason) from exc
    if front is None:
        return {}, body
    try:
        meta = yaml_text.load(front) or {}
    except yaml_text.YAMLError as exc:
        raise ValueError(f"invalid YAML in frontmatter: {exc}") from exc
    if not isinstance(meta, dict):
        raise ValueError("frontmatter must be a mapping")
    return meta, body


def _scan(folder: Path, skills: dict[str, Skill], errors: list[str], confine: Path | None) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*/SKILL.md")):
        if confine is not None and (real := outside(path, confine)) is not None:
            errors.append(f"{path}: left out: it leads to {real}, outside the workspace")
            continue
        try:
            meta, _ = _read(path.resolve())
        except (OSError, ValueError) as exc:
            errors.append(f"{path}: not loaded: {exc}")
            continue
        name = str(meta.get("name") or path.parent.name)
        description = " ".join(str(meta.get("description") or "").split())
        skills[name] = Skill(name, description, path.parent.resolve(), path.resolve())


def find_skills(workspace: Path) -> tuple[list[Skill], list[str]]:
    """Every skill a run in `workspace` can use (by name), and a line per skill left out."""
    skills: dict[str, Skill] = {}
    errors: list[str] = []
    for folder in (claude_home() / "skills", config_home() / "skills"):
        _scan(folder, skills, errors, None)
    for rel in WORKSPACE_SKILL_DIRS:
        _scan(workspace / rel, skills, errors, workspace)
    return sorted(skills.values(), key=lambda s: s.name), errors


def skill_body(skill: Skill) -> str:
    """The skill's SKILL.md body (without frontmatter).

    Raises:
        ValueError: it cannot be read now, or is not the file found at the start (a link put there).
    """
    return _read(skill.file)[1]


def skills_prompt(skills: list[Skill], preload: list[str] | None) -> str:
    """What the prompt says of skills: the listing, then the instructions of those the agent
    starts with (its `skills:` key; a name no skill has is said so)."""
    listing = skills_listing(skills)
    if not preload:
        return listing
    by_name = {s.name: s for s in skills}
    parts = [listing]
    for name in preload:
        skill = by_name.get(name)
        parts.append(
            f'<skill name="{name}">\n{skill_body(skill).strip()}\n</skill>'
            if skill
            else f"(no skill {name!r} here)"
        )
    return "\n\n".join(filter(None, parts))


def skills_listing(skills: list[Skill]) -> str:
    """The prompt's list of skills: one short line each, in name order (stable for the cache)."""
    if not skills:
        return ""
    lines = [
        f"- {s.name}: {s.description[:DESCRIPTION_CHARS]}" if s.description else f"- {s.name}" for s in skills
    ]
    head = "Skills (read one with the `skill` tool before a task it covers):"
    return "\n".join([head, *lines])
