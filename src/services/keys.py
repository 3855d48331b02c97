"""Primary keys of the single-table design (see DESIGN.md, "Data model").

Identifiers are validated to exclude ``#`` before they reach here, so a key part can never
spill into the next one.
"""

ITEM_SK = "METADATA"
MARKER_SK = "EVENT"
ACTIVITY_PREFIX = "ACTIVITY#"


Key = dict[str, str]
"""``{"PK": ..., "SK": ...}``"""


def item_key(item_id: str) -> Key:
    return {"PK": f"ITEM#{item_id}", "SK": ITEM_SK}


def marker_key(event_id: str) -> Key:
    return {"PK": f"EVENT#{event_id}", "SK": MARKER_SK}


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def activity_key(user_id: str, shared_at: str, event_id: str) -> Key:
    return {"PK": user_pk(user_id), "SK": f"{ACTIVITY_PREFIX}{shared_at}#{event_id}"}
