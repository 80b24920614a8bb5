"""git the runtime itself runs on the host, outside the sandbox, with nothing a repository can run.

Checkpoints, subagents' worktrees and merges, the environment block's status, `subagent undo`,
chat's `/diff` and the Temporal workers all run git on repositories an agent (or whoever wrote the
repository) could have configured. Everything goes through `runner.run_git`: a fixed environment,
an explicit git dir (git never discovers one), and configuration that cannot execute anything.
A user's repository is only ever read through `view.repository_view`, a private git dir that
shares its objects, refs, HEAD and index but never its config or hooks; `layout` finds and checks
the repository first. See docs/security.md, "Host git".
"""
