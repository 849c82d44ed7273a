"""tracestore: a typed model and MonkeyType-identical encoding of call traces."""

from tracestore.base import CallTraceStore, CallTraceThunk, check_limit
from tracestore.encoding import CallTraceRow, serialize_traces
from tracestore.errors import (
    DecodeError,
    EncodeError,
    InvalidTypeError,
    MalformedRowError,
    NameLookupError,
    StoreConfigError,
    TraceStoreError,
)
from tracestore.trace import CallTrace, traces_equal

__all__ = [
    "CallTrace",
    "CallTraceRow",
    "CallTraceStore",
    "CallTraceThunk",
    "DecodeError",
    "EncodeError",
    "InvalidTypeError",
    "MalformedRowError",
    "NameLookupError",
    "StoreConfigError",
    "TraceStoreError",
    "check_limit",
    "serialize_traces",
    "traces_equal",
]
