"""``python -m tracestore copy SRC DST``: copy every trace from one store to another.

SRC and DST are store specs, ``pkg.mod:StoreClass=CONNECTION`` or ``ALIAS=CONNECTION``
(``tracestore.loading``), e.g. ``sqlite=monkeytype.sqlite3 lmdb=traces.lmdb``.
Progress and a summary go to stderr.  Exit status: 0 when every trace was copied,
1 when some traces could not be decoded (they are listed), 2 for a bad command line
or a store that cannot be opened.
"""

from __future__ import annotations

import argparse
import sys
from typing import IO, List, Optional

from tracestore.copy import DEFAULT_BATCH_SIZE, CopyProgress, CopyReport, copy_notes, copy_traces
from tracestore.errors import StoreConfigError
from tracestore.loading import SPEC_FORM, StoreLike, open_store

EXIT_OK, EXIT_DECODE_FAILURES, EXIT_USAGE = 0, 1, 2


def main(argv: Optional[List[str]] = None, stderr: Optional[IO[str]] = None) -> int:
    err = sys.stderr if stderr is None else stderr
    args = _parser().parse_args(argv)
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
    return parser


def _copy(args: argparse.Namespace, err: IO[str]) -> int:
    if args.src == args.dst:
        print(f"tracestore copy: error: SRC and DST are the same store ({args.src})", file=err)
        return EXIT_USAGE
    try:
        src = _open("SRC", args.src)
        dst = _open("DST", args.dst)
    except StoreConfigError as exc:
        print(f"tracestore copy: error: {exc}", file=err)
        return EXIT_USAGE
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
    print(
        f"tracestore copy: copied {report.copied:,} traces of {report.modules:,} modules ({how}); "
        f"{report.up_to_date:,} modules already up to date; {report.failed:,} failed to decode; "
        f"{report.seconds:.2f} s",
        file=err,
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


if __name__ == "__main__":
    sys.exit(main())
