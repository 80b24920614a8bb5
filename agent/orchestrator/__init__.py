"""Subtasks handed to subagents: the task tool, worktrees and merging, verify, dispatch."""
