"""The PostgreSQL reference store: traces from a whole fleet in one database (psycopg 3)."""

from reference_stores.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
