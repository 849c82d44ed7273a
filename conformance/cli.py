"""``python -m conformance`` (``tracestore-check``): run the kit on a store class, print the rule report."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Optional, Sequence, TextIO

from conformance.deadline import DEFAULT_TIMEOUT, abandoned_threads
from conformance.report import TestOutcome, format_text, write_json
from conformance.runner import run_kit
from tracestore.errors import StoreConfigError

DEFAULT_STORE = "reference_stores.sqlite:SQLiteStore"
PROFILES = ("dev", "ci", "thorough")


def build_parser(prog: str = "tracestore-check") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Check a call-trace store against the contract, rule by rule (E1-E5, S1-S15).",
        epilog="Exit status: 0 when every rule passes (or fails as declared), 1 on any failure, "
        "2 on bad usage.",
    )
    parser.add_argument(
        "store", nargs="?", default=DEFAULT_STORE, help=f"PACKAGE.MODULE:StoreClass (default {DEFAULT_STORE})"
    )
    parser.add_argument(
        "--connection-string",
        metavar="TEMPLATE",
        help="make_store argument; {directory} is a fresh temp dir and {unique} a fresh identifier per store "
        "(default: the class's example_connection_string, else '{directory}/store')",
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default=os.environ.get("TRACESTORE_PROFILE") or "ci",
        help="Hypothesis settings profile (default: $TRACESTORE_PROFILE, else ci)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE")
    parser.add_argument(
        "--declare",
        metavar="RULE=REASON",
        action="append",
        default=[],
        help="declare a known deviation: the rule must fail (repeatable)",
    )
    parser.add_argument(
        "--rule",
        metavar="ID",
        action="append",
        default=[],
        help="check only these rules (repeatable, or S3,S4)",
    )
    parser.add_argument(
        "--processes",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether writer processes can open the store by connection string (S11); default: not for "
        "a class with process_local = True or a bare-name template like '{unique}', else yes",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        help=f"how long one call into the store (add, filter, make_store, drop_store, ...) may take "
        f"before its rule fails (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print full failure details")
    parser.add_argument("-q", "--quiet", action="store_true", help="no per-test progress on stderr")
    return parser


def main(argv: Optional[Sequence[str]] = None, prog: str = "tracestore-check") -> int:
    """Run the CLI; returns the exit status (0 all rules met, 1 a failure, 2 bad usage)."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    declared = _parse_declarations(parser, args.declare)
    rules = [rule.strip() for value in args.rule for rule in value.split(",") if rule.strip()] or None
    progress = None if args.quiet else _ProgressPrinter(sys.stderr)
    try:
        report = run_kit(
            args.store,
            timeout=args.timeout,
            header=_print_now,
            started=None if progress is None else progress.started,
            connection_string=args.connection_string,
            profile=args.profile,
            declared=declared,
            rules=rules,
            processes=args.processes,
            progress=progress,
        )
    except StoreConfigError as error:
        print(f"{prog}: cannot load the store class: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    print(format_text(report, verbose=args.verbose), flush=True)
    if args.json:
        write_json(report, args.json)
        print(f"{prog}: JSON report written to {args.json}", file=sys.stderr)
    return 0 if report.ok else 1


def run(argv: Optional[Sequence[str]] = None, prog: str = "tracestore-check") -> int:
    """The console entry point: :func:`main`, then exit at once if a store call that overran
    left a thread stuck in the store (it could keep the interpreter from exiting)."""
    status = main(argv, prog)
    if abandoned_threads():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


def _print_now(line: str) -> None:
    print(line, flush=True)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return seconds


def _parse_declarations(parser: argparse.ArgumentParser, values: List[str]) -> Dict[str, str]:
    declared: Dict[str, str] = {}
    for value in values:
        rule, sep, reason = value.partition("=")
        if not sep or not rule.strip() or not reason.strip():
            parser.error(f"--declare needs RULE=REASON, got {value!r}")
        declared[rule.strip()] = reason.strip()
    return declared


class _ProgressPrinter:
    """Prints '[k/n] S3 test_S3_prefix_is_literal ...' as a test starts, and
    '[k/n] S3 test_S3_prefix_is_literal passed 0.42s' once it has ended."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def started(self, test: TestOutcome, begun: int, total: int) -> None:
        rules = ",".join(test.rules) or "-"
        print(f"[{begun}/{total}] {rules} {test.name} ...", file=self.stream, flush=True)

    def __call__(self, test: TestOutcome, done: int, total: int) -> None:
        rules = ",".join(test.rules) or "-"
        line = f"[{done}/{total}] {rules} {test.name} {test.outcome} {test.duration:.2f}s"
        print(line, file=self.stream, flush=True)
