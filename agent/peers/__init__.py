"""The peers' project files (Claude Code's `.claude/`, opencode's `opencode.json`), read into
this runtime's vocabulary: one reader per file format, nothing here decides trust or merges."""
