"""The MySQL/MariaDB reference store: traces from a whole fleet in one database (PyMySQL)."""

from reference_stores.mysql.store import MySQLStore

__all__ = ["MySQLStore"]
