"""Skills: `SKILL.md` folders listed by name and description in the prompt, read on demand with
the `skill` tool (docs/skills.md)."""
