"""``python -m tracestore copy SRC DST`` and ``python -m tracestore upgrade SPEC``.

``copy`` copies every trace from one store to another; SRC and DST are store specs,
``pkg.mod:StoreClass=CONNECTION`` or ``ALIAS=CONNECTION`` (``tracestore.loading``), e.g.
``sqlite=monkeytype.sqlite3 lmdb=traces.lmdb``.  SRC is opened read-only where its store
can be (``tracestore.copy.open_source``).  ``upgrade`` brings a store's file to its
current layout (a MonkeyType SQLite file to ``SQLiteStore``'s) and compacts it.
Progress and a summary go to stderr.  Exit status: 0 when every trace was copied,
1 when some traces could not be decoded (they are listed), 2 for a bad command line
or a store that cannot be opened.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import IO, List, Optional

from tracestore.copy import (
    DEFAULT_BATCH_SIZE,
    CopyProgress,
    CopyReport,
    copy_notes,
    copy_traces,
    open_source,
)
from tracestore.errors import StoreConfigError
from tracestore.loading import SPEC_FORM, StoreLike, open_store

EXIT_OK, EXIT_DECODE_FAILURES, EXIT_USAGE = 0, 1, 2


def main(argv: Optional[List[str]] = None, stderr: Optional[IO[str]] = None) -> int:
    err = sys.stderr if stderr is None else stderr
    args = _parser().parse_args(argv)
    if args.command == "upgrade":
        return _upgrade(args, err)
    return _copy(args, err)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tracestore", description="tracestore utilities")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    copy = commands.add_parser(
        "copy",
        help="copy every trace from one store to another, keeping each module's recency order",
        description=(
            "Copy every trace from SRC to DST, each module's traces oldest first, so DST lists them "
            "most recent first as SRC does. Safe to re-run where DST keeps distinct results. "
            "Traces are decoded on the way, so run it where the traced code is importable; "
            "traces that cannot be decoded are counted and listed, not copied."
        ),
        epilog=f"A store spec is {SPEC_FORM}; e.g. sqlite=monkeytype.sqlite3 lmdb=traces.lmdb",
    )
    copy.add_argument("src", metavar="SRC", help="the store to read, as a store spec")
    copy.add_argument("dst", metavar="DST", help="the store to add to, as a store spec")
    copy.add_argument(
        "--batch-size", type=_positive, default=DEFAULT_BATCH_SIZE, help="traces per add() call (%(default)s)"
    )
    copy.add_argument("--quiet", "-q", action="store_true", help="no progress lines, only the summary")
    upgrade = commands.add_parser(
        "upgrade",
        help="upgrade a store's file to its current layout and compact it",
        description=(
            "Upgrade the store's file in place to its current layout (a MonkeyType SQLite file: to "
            "SQLiteStore's, which MonkeyType still reads and writes) in one transaction, then compact "
            "it. Reading never upgrades; a store's first add does this too. A bare PATH is a SQLite file."
        ),
        epilog=f"SPEC is PATH or a store spec, {SPEC_FORM}",
    )
    upgrade.add_argument("spec", metavar="SPEC", help="the store to upgrade")
    return parser


def _copy(args: argparse.Namespace, err: IO[str]) -> int:
    if args.src == args.dst:
        print(f"tracestore copy: error: SRC and DST are the same store ({args.src})", file=err)
        return EXIT_USAGE
    try:
        src, read_only = open_source(args.src)
    except StoreConfigError as exc:
        print(f"tracestore copy: error: SRC {args.src!r}: {exc}", file=err)
        return EXIT_USAGE
    try:
        dst = _open("DST", args.dst)
    except StoreConfigError as exc:
        print(f"tracestore copy: error: {exc}", file=err)
        return EXIT_USAGE
    if not read_only:
        print(
            f"tracestore copy: note: the source's class has no make_read_only_store(), so it was opened "
            f"with make_store(): whether reading it writes to it is up to {type(src).__qualname__}",
            file=err,
        )
    for note in copy_notes(src, dst):
        print(f"tracestore copy: note: {note}", file=err)
    progress = None if args.quiet else _ProgressPrinter(err)
    report = copy_traces(src, dst, batch_size=args.batch_size, progress=progress)
    if progress is not None:
        progress.finish()
    _print_summary(report, err)
    return EXIT_DECODE_FAILURES if report.failed else EXIT_OK


def _open(role: str, spec: str) -> StoreLike:
    try:
        return open_store(spec)
    except StoreConfigError as exc:
        raise StoreConfigError(f"{role} {spec!r}: {exc}") from exc


class _ProgressPrinter:
    """Progress lines on stderr: rewritten in place on a terminal, at most one a second otherwise."""

    def __init__(self, err: IO[str]) -> None:
        self.err = err
        self.tty = err.isatty()
        self.pending = False

    def __call__(self, progress: CopyProgress) -> None:
        total = "" if progress.modules_total is None else f"/{progress.modules_total}"  # streamed: unknown
        rate = progress.copied / progress.seconds if progress.seconds > 0 else 0.0
        line = (
            f"tracestore copy: {progress.modules_done}{total} modules, {progress.copied:,} traces copied, "
            f"{progress.failed:,} failed to decode ({rate:,.0f} traces/s)"
        )
        if self.tty:
            self.err.write("\r\x1b[K" + line)
            self.pending = True
        else:
            self.err.write(line + "\n")
        self.err.flush()

    def finish(self) -> None:
        if self.pending:
            self.err.write("\n")


def _print_summary(report: CopyReport, err: IO[str]) -> None:
    for failure in report.failures:
        print(f"tracestore copy: not copied: {failure.module}:{failure.qualname}: {failure.error}", file=err)
    if report.failed > len(report.failures):
        print(f"tracestore copy: ... and {report.failed - len(report.failures):,} more not copied", file=err)
    how = "rows as they are" if not report.decoded else "decoded traces"
    if report.new is not None:
        outcome = f"{report.new:,} new, {report.already_there:,} already there"
    else:
        outcome = f"{report.copied:,} added (the destination does not say how many were new)"
    skipped = f", {report.up_to_date:,} modules already up to date" if report.up_to_date else ""
    print(
        f"tracestore copy: {report.read:,} rows read from {report.modules:,} modules ({how}): {outcome}; "
        f"{report.failed:,} failed to decode{skipped}; {report.seconds:.2f} s",
        file=err,
    )


def _upgrade(args: argparse.Namespace, err: IO[str]) -> int:
    bare = "=" not in args.spec.partition("?")[0]
    if bare and not os.path.isfile(args.spec.partition("?")[0]):
        print(f"tracestore upgrade: error: {args.spec!r} is not a file", file=err)
        return EXIT_USAGE
    spec = f"sqlite={args.spec}" if bare else args.spec
    try:
        store = _open("SPEC", spec)
    except StoreConfigError as exc:
        print(f"tracestore upgrade: error: {exc}", file=err)
        return EXIT_USAGE
    upgrade = getattr(store, "upgrade", None)
    if not callable(upgrade):
        print(f"tracestore upgrade: error: {type(store).__qualname__} has no upgrade()", file=err)
        return EXIT_USAGE
    path = getattr(getattr(store, "config", None), "path", None)
    size = os.path.getsize(path) if isinstance(path, str) else None
    started = time.perf_counter()
    upgraded = upgrade()
    seconds = time.perf_counter() - started
    what = (
        "upgraded from MonkeyType's table" if upgraded else "already current; compacted if it had free pages"
    )
    sizes = (
        f"; {size:,} -> {os.path.getsize(path):,} bytes" if isinstance(path, str) and size is not None else ""
    )
    print(f"tracestore upgrade: {args.spec}: {what}{sizes}; {seconds:.2f} s", file=err)
    return EXIT_OK


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


if __name__ == "__main__":
    sys.exit(main())
