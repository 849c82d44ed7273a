"""The tracestore exception hierarchy: every error raised on purpose is a ``TraceStoreError``."""

from __future__ import annotations


class TraceStoreError(Exception):
    """Base class of every error that tracestore raises on purpose."""


class EncodeError(TraceStoreError, TypeError):
    """A trace or type cannot be encoded (not a type, no module or qualname, ...)."""


class DecodeError(TraceStoreError):
    """A stored row cannot be turned back into a trace (rule E5)."""


class NameLookupError(DecodeError, LookupError):
    """The module or the qualname a row names can no longer be found.

    ``module`` and ``qualname`` hold the name that was looked for.
    """

    def __init__(self, message: str, module: str, qualname: str | None = None) -> None:
        super().__init__(message)
        self.module = module
        self.qualname = qualname


class InvalidTypeError(DecodeError):
    """The name exists but is not what the row says (not a type, not a function, wrong arity)."""


class MalformedRowError(DecodeError, ValueError):
    """A stored field is not valid JSON, or not of the encoding's shape."""


class StoreConfigError(TraceStoreError, ValueError):
    """A connection string or store option cannot name a usable store (rule S14)."""
