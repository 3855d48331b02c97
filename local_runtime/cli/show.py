"""``share-worker show``: an item's record, and a user's feed one page at a time."""

from __future__ import annotations

import shlex
from typing import Any

from local_runtime.cli.options import at_least, stack_options
from local_runtime.cli.report import table
from local_runtime.cli.session import CommandError, Session
from services.activity_service import ActivityService, InvalidCursor


def add_show(commands: Any) -> None:
    show = commands.add_parser("show", help="show an item or a user's feed", description="Read the table.")
    things = show.add_subparsers(title="what", required=True, metavar="WHAT")
    item = things.add_parser("item", help="an item's record", description="Shows one item's record.")
    item.add_argument("item_id")
    item.set_defaults(run_command=show_item_command)
    feed = things.add_parser(
        "feed", help="a user's activity feed, newest first", description="Shows one page of a user's feed."
    )
    feed.add_argument("user_id")
    feed.add_argument("--limit", type=at_least(1), default=20, help="entries per page (default: %(default)s)")
    feed.add_argument("--cursor", help="the cursor printed under the previous page")
    feed.set_defaults(run_command=show_feed_command)


def show_item_command(session: Session) -> int:
    item = session.table_access().get_item(session.args.item_id)
    if item is None:
        raise CommandError(f"no item {session.args.item_id!r} in {session.resources.table_name}")
    print(table(["attribute", "value"], sorted(item.items())))
    return 0


def show_feed_command(session: Session) -> int:
    args = session.args
    try:
        page = ActivityService(session.table_access()).list_user_activity(
            args.user_id, args.limit, args.cursor
        )
    except InvalidCursor as error:
        raise CommandError(str(error)) from None
    rows = [
        [entry["SharedAt"], entry["ItemName"], entry["ItemId"], entry["EventId"]] for entry in page.entries
    ]
    print(
        table(["SharedAt", "ItemName", "ItemId", "EventId"], rows)
        if rows
        else f"{args.user_id} has no activity"
    )
    if page.next_cursor:
        next_page = [*stack_options(args), "show", "feed", args.user_id, "--limit", str(args.limit)]
        print(f"\nnext page: {shlex.join(['share-worker', *next_page, '--cursor', page.next_cursor])}")
    return 0
