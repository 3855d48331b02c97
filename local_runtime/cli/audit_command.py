"""``share-worker audit``: the command line of :mod:`local_runtime.audit`.

Exit status: 0 when no count drifts (with ``--repair``: every drifting count was repaired), 1 when
one does, is left unrepaired or is malformed, 2 when the audit could not run or finish (usage, a
stack or table that is not there, a failed AWS call, another repair holding the lease, the lease lost
during the repair, a report that cannot be written, a bug), 3 when nothing drifts but some items
changed during every confirmation round (undetermined: rerun off-peak), so that a scheduled job can
tell "counts are wrong" from "audit broke" from "too busy to tell". 1 wins over 3.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from tqdm import tqdm

from local_runtime.audit.audit import AuditRequest, AuditResult, audit
from local_runtime.audit.drift import Status
from local_runtime.audit.lease import LeaseError, LeaseLost
from local_runtime.audit.ledger_scan import Progress, approximate_record_count
from local_runtime.audit.report import REPORT_SUFFIXES, report_rows, summary, write_report
from local_runtime.cli.options import at_least
from local_runtime.cli.report import table
from local_runtime.cli.session import CommandError, Session

DRIFT, CANNOT_AUDIT, UNDETERMINED = 1, 2, 3
DIRECTIONS = {str(status): status for status in (Status.OVER_COUNTED, Status.UNDER_COUNTED)}


def add_audit(commands: Any) -> None:
    audit_parser = commands.add_parser(
        "audit",
        help="check every item's SharedCount against its feed entries; --repair fixes the drift",
        description="Counts the feed entries (the ledger of applied shares) of each item with a parallel, "
        "strongly consistent Scan and compares its SharedCount; confirms each drifting item again so that "
        "live traffic is not taken for drift. Dry run unless --repair, which sets each drifting count to "
        "its ledger count on the condition that it still holds the value seen (a share applied meanwhile "
        "is never overwritten: that item is left for the next run); one repair at a time (a lease in the "
        "table), and nothing else may lower counts meanwhile. Cost: every run reads the whole table with "
        "consistent reads, at least once, and once more per confirmation round when something drifts "
        "(2 or more full scans); --items skips the first scan but its confirmation still scans the whole "
        "table (1 to 3 full scans): the table has no index by item. Exit status 0 when nothing drifts "
        "(or all drift was repaired), 1 when something drifts or a count is malformed, 2 when the audit "
        "could not run or finish, 3 when nothing drifts but some items changed during every confirmation "
        "round (undetermined: rerun off-peak or with the event source mapping paused).",
    )
    audit_parser.add_argument(
        "--segments", type=at_least(1), default=4, help="parallel scan segments (default: %(default)s)"
    )
    audit_parser.add_argument(
        "--items", help="comma-separated item ids: audit only these (still 1-3 full scans, no first scan)"
    )
    audit_parser.add_argument(
        "--output", type=_report_path, metavar="REPORT.json|REPORT.csv", help="write the per-item report"
    )
    audit_parser.add_argument("--repair", action="store_true", help="repair the drifting counts")
    audit_parser.add_argument(
        "--only",
        choices=sorted(DIRECTIONS),
        help="repair one direction only (feed entries deleted on purpose make counts look too high)",
    )
    audit_parser.add_argument("--quiet", action="store_true", help="no progress bar")
    # A failure that keeps the audit from running (the errors main explains) exits 2, not 1: 1 means drift.
    audit_parser.set_defaults(run_command=run_audit, failure_status=CANNOT_AUDIT)


def run_audit(session: Session) -> int:
    args = session.args
    if args.only and not args.repair:
        raise CommandError("--only chooses what --repair repairs: add --repair, or drop --only")
    request = AuditRequest(
        segments=args.segments,
        item_ids=sorted({part.strip() for part in args.items.split(",") if part.strip()})
        if args.items
        else None,
        repair=args.repair,
        only=DIRECTIONS[args.only] if args.only else None,
    )
    service = session.table_access()
    client = boto3.client("dynamodb")
    total = approximate_record_count(client, service.table_name)
    with (
        tqdm(total=total, unit="rec", file=sys.stderr, disable=args.quiet or not sys.stderr.isatty()) as bar,
        _broken_audit_exits_2(),
    ):
        lock = threading.Lock()

        def scan(description: str) -> Progress:
            """Each scan (the first, each confirmation round) restarts the bar under its own name."""
            with lock:
                bar.reset(total)
                bar.set_description(description)

            def advance(records: int) -> None:
                with lock:
                    bar.update(records)

            return advance

        result = audit(service, client, request, scan)
    _print(result)
    if args.output:
        try:
            write_report(result, args.output)
        except OSError as error:
            raise CommandError(
                f"could not write the report {args.output}: {error.strerror or error}"
            ) from None
        print(f"\nreport: {args.output}")
    if result.lease_lost:
        raise CommandError(str(LeaseLost()))
    if result.left_drifting:
        return DRIFT
    return UNDETERMINED if result.undetermined else 0


def _print(result: AuditResult) -> None:
    rows = report_rows(result)
    if rows:
        print(table(list(rows[0]), [list(row.values()) for row in rows]) + "\n")
    lines = [
        (name, ", ".join(value) or "-" if isinstance(value, list) else value)
        for name, value in summary(result).items()
    ]
    print(table(["", "items"], lines))


@contextmanager
def _broken_audit_exits_2() -> Iterator[None]:
    """Anything the audit raises becomes a :class:`CommandError`: one line on stderr, exit status 2.

    main explains the SDK's errors, and finds those the worker's services wrap (a
    ``RetryableProcessingError`` from ``BatchGetItem``) through ``__cause__``, but anything else (a
    service error without an SDK cause, ``DeadlineApproaching``, a bug) would be a traceback and exit
    status 1, which a scheduled job reads as drift. The SDK error stays the cause, for main to explain.
    """
    try:
        yield
    except (CommandError, ClientError, BotoCoreError):
        raise
    except LeaseError as error:
        raise CommandError(str(error)) from error
    except Exception as error:  # noqa: BLE001 - a broken audit must exit 2, never 1 (drift)
        cause = error.__cause__ if isinstance(error.__cause__, (ClientError, BotoCoreError)) else error
        raise CommandError(f"the audit could not finish: {type(error).__name__}: {error}") from cause


def _report_path(text: str) -> Path:
    path = Path(text)
    if path.suffix not in REPORT_SUFFIXES:
        raise argparse.ArgumentTypeError(f"the report is .json or .csv, got {text!r}")
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the report's folder {str(folder)!r} does not exist")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"the report {text!r} cannot be written (permission denied)")
    return path
