"""The MySQL/MariaDB reference store: traces from a whole fleet in one database (mysqlclient)."""

from reference_stores.mysql.store import MySQLStore

__all__ = ["MySQLStore"]
