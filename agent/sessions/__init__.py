"""Sessions in SQLite and checkpoints in a shadow git repository."""
