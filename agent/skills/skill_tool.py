"""The `skill` tool: a skill's SKILL.md body, or one of its files, read by the runtime itself.

The runtime found the skill (`agent.skills.discovery`), so it reads it without the file tools'
policy, which hides HOME (`~/.claude/skills` would be unreadable to `read`); but only inside the
skill's own folder, with links that lead out of it refused, and what it opens is the file it
checked (`agent.trust.confine.read_resolved`): a workspace skill's folder may be a link to a
folder bash writes, where a file swapped for a link to HOME would otherwise be read. It needs
no permission: it reads what the runtime already lists to the model.
"""

import os
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from agent.errors import ToolFailure
from agent.skills.discovery import MAX_SKILL_BYTES, Skill, skill_body
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from agent.tool_output import cap_output
from agent.trust.confine import outside, read_resolved


class SkillInput(ToolInput):
    name: str = Field(description="The skill's name.")
    file: str | None = Field(None, description="A file its instructions name; omit for them.")


class SkillTool(Tool[SkillInput]):
    name: ClassVar[str] = "skill"
    description: ClassVar[str] = "Read a listed skill's instructions (or a file they name), then follow them."
    input_model: ClassVar[type[ToolInput]] = SkillInput
    kind = "read"

    def __init__(self, skills: list[Skill]) -> None:
        self.skills = {s.name: s for s in skills}

    def permission_requests(self, input: SkillInput, ctx: ToolContext) -> list[PermissionRequest]:
        return []

    def title(self, input: SkillInput) -> str:
        return f"skill {input.name}" + (f" {input.file}" if input.file else "")

    async def run(self, input: SkillInput, ctx: ToolContext) -> ToolResult:
        skill = self.skills.get(input.name)
        if skill is None:
            raise ToolFailure(f"no skill {input.name!r}; skills: {', '.join(sorted(self.skills)) or 'none'}")
        if not input.file:
            try:
                body = skill_body(skill)
            except ValueError as exc:
                raise ToolFailure(f"skill {input.name}: its SKILL.md cannot be read: {exc}") from None
            return ToolResult(output=cap_output(body, ctx.limits, ctx.data_dir).text)
        real = Path(os.path.realpath(skill.folder / input.file))
        if outside(real, skill.folder) is not None:
            raise ToolFailure(f"{input.file!r} is not inside the skill's folder")
        try:  # what opens is the file just checked, or nothing
            data, _ = read_resolved(real, MAX_SKILL_BYTES)
        except OSError as exc:
            raise ToolFailure(f"{input.file}: cannot be read: {exc.strerror}") from None
        return ToolResult(
            output=cap_output(data.decode("utf-8", errors="replace"), ctx.limits, ctx.data_dir).text
        )
