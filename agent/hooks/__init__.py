"""Hooks: commands the user's config runs at fixed points of a run (Claude Code's format), in the
sandbox, whose answers can deny a tool call, add context or keep the agent going."""
