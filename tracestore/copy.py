"""Copy every trace from one store to another, keeping each module's recency order.

The copy uses only the store interface:

* For each module of ``src.list_modules()`` it reads ``src.filter(module, limit=ALL)``
  (most recent first, for a store that declares ``ordered_results``) and adds the
  traces to ``dst`` oldest first, in batches, so ``dst`` lists each module's traces
  in ``src``'s order (S5, S15).  The relative order of traces of *different* modules
  cannot be observed through the interface, so it is not kept.
* A module whose traces are already the most recent ones of that module in ``dst``,
  in the same order, is skipped ("up to date"), so running the copy again adds nothing
  and moves nothing.  Any other module is copied whole; where ``dst`` keeps distinct
  results (S6) that adds no duplicates, and its traces become its most recent ones.
* ``add`` takes traces, so each stored row is decoded (``to_trace``) before it is
  added, and decoding imports the traced functions: run the copy where the traced
  code is importable (``python -m`` puts the current directory on ``sys.path``).  A
  trace that cannot be decoded (its function was deleted, ...) is counted and
  reported in ``CopyReport.failed``/``failures``, never dropped silently.

Two optional extension methods make a copy faster or import-free (see ``RowSource``
and ``RowSink``): a source's ``iter_rows()`` streams every row oldest first (keeping
the order across modules too), and a destination's ``add_rows(rows)`` stores
``CallTraceRow``s as they are, with no decoding at all.  A copy streams: it holds one
batch at a time, so its memory does not grow with the store.  An ``add_rows`` that
returns how many of the rows it did not hold yet lets the report say how many were new.

The source is opened read-only where its class can (``open_source``: the optional
classmethod ``make_read_only_store``), so a copy never writes to it.
"""

from __future__ import annotations

import time
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Protocol,
    Sequence,
    Set,
    Tuple,
    cast,
)

from tracestore.encoding import CallTraceRow, arg_types_from_json, row_fields, type_from_json
from tracestore.errors import DecodeError, MalformedRowError, StoreConfigError
from tracestore.loading import StoreLike, load_store_class, parse_store_spec
from tracestore.lookup import get_func_in_module
from tracestore.trace import CallTrace

__all__ = [
    "ALL",
    "CopyFailure",
    "CopyProgress",
    "CopyReport",
    "RowSink",
    "RowSource",
    "copy_notes",
    "copy_traces",
    "open_source",
]

ALL = 2**31 - 1
"""The ``limit`` that asks ``filter`` for every trace of a module."""
DEFAULT_BATCH_SIZE = 5000
FAILURES_KEPT = 20


class RowSource(Protocol):
    """Optional source extension: every stored row, oldest first (each distinct row at its latest place)."""

    def iter_rows(self) -> Iterable[CallTraceRow]: ...


class RowSink(Protocol):
    """Optional destination extension: store encoded rows as they are, in order, like ``add``."""

    def add_rows(self, rows: Iterable[CallTraceRow]) -> Optional[int]: ...


class CopyFailure(NamedTuple):
    """A trace that was not copied: where it was and why it could not be decoded."""

    module: str
    qualname: str
    error: str


class CopyProgress(NamedTuple):
    """Where a running copy is; ``modules_total`` is ``None`` when streaming ``iter_rows``."""

    modules_done: int
    modules_total: Optional[int]
    copied: int
    failed: int
    seconds: float


class CopyReport(NamedTuple):
    """The outcome of ``copy_traces``: ``failures`` holds the first ``FAILURES_KEPT`` of ``failed``.

    ``read`` rows were read from the source; ``copied`` of them were passed to the
    destination (the others failed to decode, or their module was up to date); ``new`` of
    those the destination did not hold yet (None when it does not say).
    """

    modules: int
    copied: int
    failed: int
    seconds: float
    failures: List[CopyFailure]
    up_to_date: int  # modules skipped: dst already lists their traces, in order, as the most recent
    streamed: bool  # the source's iter_rows() was used
    decoded: bool  # traces were decoded (the destination has no add_rows())
    read: int = 0
    new: Optional[int] = None

    @property
    def already_there(self) -> Optional[int]:
        """Rows read that the destination held already (None when it does not say)."""
        return None if self.new is None else self.read - self.failed - self.new


ProgressCallback = Callable[[CopyProgress], None]


def copy_notes(src: Any, dst: Any) -> List[str]:
    """Warnings about what a copy from ``src`` to ``dst`` can promise, for the user to read."""
    notes = []
    if not _has(src, "iter_rows") and getattr(src, "ordered_results", False) is not True:
        notes.append(
            f"the source ({_name(src)}) does not declare ordered_results = True: each module's "
            "traces are copied in the order its filter() lists them, which may not be recency order"
        )
    distinct = getattr(dst, "distinct_results", None)
    if distinct is False:
        notes.append(
            f"the destination ({_name(dst)}) keeps duplicates: a module copied again (because it "
            "changed) gets all of its traces again"
        )
    elif distinct is None:
        notes.append(
            f"the destination ({_name(dst)}) does not declare distinct_results: a module copied again "
            "(because it changed) may get duplicate traces"
        )
    return notes


def copy_traces(
    src: StoreLike,
    dst: Any,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Optional[ProgressCallback] = None,
) -> CopyReport:
    """Copy every trace of ``src`` into ``dst`` (see the module docstring); returns a ``CopyReport``.

    ``dst`` needs ``add`` (or ``add_rows``); ``src`` needs ``list_modules`` and ``filter``
    (or ``iter_rows``).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
    copier = _Copier(dst, progress, src)
    if _has(src, "iter_rows"):
        copier.copy_batches(_batches(cast(RowSource, src).iter_rows(), batch_size))
        copier.report_progress(force=True)
    else:
        try:
            modules = list(src.list_modules())
        except NotImplementedError as exc:
            raise TypeError(
                f"cannot copy from {_name(src)}: it implements neither list_modules() nor iter_rows()"
            ) from exc
        copier.modules_total = len(modules)
        for module in modules:
            thunks = src.filter(module, None, ALL)
            if _up_to_date(dst, module, thunks):
                copier.up_to_date += 1
                copier.read += len(thunks)
            else:
                copier.copy_batches(_batches(reversed(thunks), batch_size))
            copier.modules_done += 1
            copier.report_progress(force=True)
    return copier.report(streamed=_has(src, "iter_rows"))


class _Copier:
    """The running state of one copy: counts, kept failures, the progress clock."""

    def __init__(self, dst: Any, progress: Optional[ProgressCallback], src: Any = None) -> None:
        # Optional ``trim_memory()`` of either store: called between batches (e.g. LMDB's map pages).
        self.trims = [store.trim_memory for store in (src, dst) if _has(store, "trim_memory")]
        self.rows_sink = _has(dst, "add_rows")
        self.add: Callable[[List[Any]], Any] = dst.add_rows if self.rows_sink else dst.add
        self.progress = progress
        self.started = time.perf_counter()
        self.last_report = self.started
        self.modules_done = 0
        self.modules_total: Optional[int] = None
        self.modules_seen: Set[str] = set()
        self.copied = 0
        self.failed = 0
        self.failures: List[CopyFailure] = []
        self.up_to_date = 0
        self.read = 0
        self.new: Optional[int] = 0 if self.rows_sink else None  # None: the destination does not say
        self.decoder = RowDecoder()

    def copy_batches(self, batches: Iterator[List[Any]]) -> None:
        for batch in batches:
            self.read += len(batch)
            if self.rows_sink and all(type(item) is CallTraceRow for item in batch):
                items = batch  # rows to a row sink: as they are (it checks them itself)
                self.modules_seen.update({row.module for row in batch})
            else:
                items = [item for item in map(self.prepare, batch) if item is not None]
            if items:
                added = self.add(items)
                self.copied += len(items)
                if isinstance(added, int) and not isinstance(added, bool) and self.new is not None:
                    self.new += added
                else:
                    self.new = None
            for trim in self.trims:
                trim()
            self.report_progress(force=False)

    def prepare(self, thunk: Any) -> Any:
        """What ``dst`` gets: the row itself (``add_rows``) or its decoded trace; ``None`` on failure."""
        module, qualname = _where(thunk)
        self.modules_seen.add(module)
        fields = row_fields(thunk) if self.rows_sink else None
        if fields is not None:
            return CallTraceRow(*fields)
        try:
            if type(thunk) is CallTraceRow:
                return self.decoder.decode(thunk)
            return thunk.to_trace()
        except Exception as exc:  # any store's decode error: counted and reported, never fatal
            self.failed += 1
            if len(self.failures) < FAILURES_KEPT:
                self.failures.append(CopyFailure(module, qualname, f"{type(exc).__name__}: {exc}"))
            return None

    def report_progress(self, force: bool) -> None:
        now = time.perf_counter()
        if self.modules_total is None:  # streaming: modules are known only as their rows arrive
            self.modules_done = len(self.modules_seen)
        if self.progress is not None and (force or now - self.last_report >= 1.0):
            self.last_report = now
            self.progress(
                CopyProgress(
                    self.modules_done, self.modules_total, self.copied, self.failed, now - self.started
                )
            )

    def report(self, streamed: bool) -> CopyReport:
        seconds = time.perf_counter() - self.started
        modules = self.modules_done if self.modules_total is not None else len(self.modules_seen)
        return CopyReport(
            modules,
            self.copied,
            self.failed,
            seconds,
            self.failures,
            self.up_to_date,
            streamed,
            not self.rows_sink,
            self.read,
            self.new,
        )


class RowDecoder:
    """``CallTraceRow.to_trace`` for many rows: each distinct function and JSON text is decoded once.

    Rows of one store repeat the same few texts endlessly, so a copy decodes several
    times faster this way. Same results and errors as ``to_trace`` (E5); each trace
    gets its own ``arg_types`` dict, holding the shared type objects.
    """

    def __init__(self, maxsize: int = 65536) -> None:
        self.maxsize = maxsize
        self.funcs: Dict[Tuple[str, str], Any] = {}
        self.arg_types: Dict[str, Dict[str, Any]] = {}
        self.types: Dict[str, Any] = {}

    def decode(self, row: CallTraceRow) -> CallTrace:
        try:
            return CallTrace(
                self._func(row.module, row.qualname),
                dict(self._arg_types(row.arg_types)),
                self._type(row.return_type),
                self._type(row.yield_type),
            )
        except DecodeError:
            raise
        except Exception as exc:  # e.g. a field that is not text: as to_trace reports it
            raise MalformedRowError(
                f"Row for {row.module!r}.{row.qualname!r} cannot be decoded: {exc!r}"
            ) from exc

    def _func(self, module: str, qualname: str) -> Any:
        key = (module, qualname)
        func = self.funcs.get(key)
        if func is None:
            func = self._put(self.funcs, key, get_func_in_module(module, qualname))
        return func

    def _arg_types(self, text: str) -> Dict[str, Any]:
        decoded = self.arg_types.get(text)
        if decoded is None:
            decoded = self._put(self.arg_types, text, arg_types_from_json(text))
        return decoded

    def _type(self, text: Optional[str]) -> Any:
        if text is None or text == "null":
            return None
        if text not in self.types:
            self._put(self.types, text, type_from_json(text))
        return self.types[text]

    def _put(self, cache: Dict[Any, Any], key: Any, value: Any) -> Any:
        if len(cache) >= self.maxsize:
            cache.clear()
        cache[key] = value
        return value


def open_source(spec: str) -> Tuple[StoreLike, bool]:
    """Open the store ``spec`` names for reading: read-only where its class has
    ``make_read_only_store(connection_string)``; returns the store and whether it is read-only."""
    path, connection = parse_store_spec(spec)
    cls: Any = load_store_class(path)
    maker = getattr(cls, "make_read_only_store", None)
    try:
        if callable(maker):
            return maker(connection), True
        return cls.make_store(connection), False
    except StoreConfigError as exc:
        raise StoreConfigError(f"{path}: {exc}") from exc


def _up_to_date(dst: Any, module: str, thunks: Sequence[Any]) -> bool:
    """Does ``dst`` already list ``thunks`` (rows) as its most recent traces of ``module``, in order?"""
    if not thunks:
        return True
    if not _has(dst, "filter"):
        return False
    present = dst.filter(module, None, len(thunks))
    return len(present) == len(thunks) and all(map(_same_row, present, thunks))


def _same_row(left: Any, right: Any) -> bool:
    fields = row_fields(left)
    return fields is not None and fields == row_fields(right)


def _batches(items: Iterable[Any], size: int) -> Iterator[List[Any]]:
    batch: List[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _where(thunk: Any) -> Tuple[str, str]:
    module, qualname = getattr(thunk, "module", "?"), getattr(thunk, "qualname", "?")
    return (module if isinstance(module, str) else "?", qualname if isinstance(qualname, str) else "?")


def _has(obj: Any, method: str) -> bool:
    return callable(getattr(obj, method, None))


def _name(store: Any) -> str:
    cls = type(store)
    return f"{cls.__module__}.{cls.__qualname__}"
