"""Database access and migrations (SQL files in migrations/, applied in name order)."""

import sqlite3
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def connect(path: str = ":memory:") -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    migrate(conn)
    return conn


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the migrations not applied yet; return their names."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY)")
    done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
    applied = []
    for script in sorted(MIGRATIONS.glob("*.sql")):
        if script.name in done:
            continue
        with conn:
            conn.executescript(script.read_text())
            conn.execute("INSERT INTO schema_migrations (name) VALUES (?)", (script.name,))
        applied.append(script.name)
    return applied


def list_items(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute("SELECT id, name, quantity FROM items ORDER BY id DESC")
    return [dict(row) for row in rows]
