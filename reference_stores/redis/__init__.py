"""The Redis reference store: traces from a whole fleet in one Redis database (redis-py)."""

from reference_stores.redis.store import RedisStore

__all__ = ["RedisStore"]
