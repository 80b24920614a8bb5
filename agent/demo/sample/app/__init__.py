"""inventory-service: a small JSON API on the standard library."""
