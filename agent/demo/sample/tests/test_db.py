import unittest

from app import db


class MigrationTest(unittest.TestCase):
    def test_migrations_apply_once(self):
        conn = db.connect()
        self.assertEqual(db.migrate(conn), [])
        names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
        self.assertEqual(names[0], "001_create_items.sql")
