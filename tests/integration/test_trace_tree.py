"""With tracing on, every DynamoDB call of a batch sits under the handler's subsegment, whatever its thread.

The handler runs as Lambda runs it with active tracing (``LAMBDA_TASK_ROOT``, a trace header per
invocation) in a process of its own, with the real X-Ray SDK, against the embedded server; the SDK
sends its documents to a UDP socket on 127.0.0.1 (:mod:`tests.xray_daemon`), and the test rebuilds
the tree from them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from testkit.faults import TRANSACT_WRITE, FaultKind, fault_proxy
from tests.conftest import ShareTable
from tests.factories import failed_ids, share_body, sqs_event, sqs_record
from tests.integration.batches import shared_count
from tests.xray_daemon import TraceEntity, XRayDaemon

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HANDLER_SUBSEGMENT = "## handle_share_batch"
ITEM_SUBSEGMENT = "## share_item"
DYNAMODB_SUBSEGMENT = "dynamodb"
TRACES = ("1-6753a1b2-0123456789abcdef01234567", "1-6753a1b3-fedcba9876543210fedcba98")
LAMBDA_SEGMENT_IDS = ("53995c3f42cd8ad8", "63995c3f42cd8ad9")


def traced_run(
    invocations: list[dict[str, Any]], table: str, daemon: XRayDaemon, tmp_path: Path, **variables: str
) -> Any:
    environment = {name: value for name, value in os.environ.items() if name != "POWERTOOLS_TRACE_DISABLED"}
    environment.update(variables)
    environment.update(
        LAMBDA_TASK_ROOT=str(ROOT / "src"),
        AWS_LAMBDA_FUNCTION_NAME="share-worker-traced",
        AWS_XRAY_DAEMON_ADDRESS=daemon.address,
        TABLE_NAME=table,
    )
    requests, responses = tmp_path / "invocations.json", tmp_path / "responses.json"
    requests.write_text(json.dumps(invocations))
    subprocess.run(  # the same interpreter, a fixed module of the tests
        [sys.executable, "-m", "tests.integration.traced_invocations", str(requests), str(responses)],
        cwd=ROOT,
        env=environment,
        check=True,
        timeout=120,
    )
    return json.loads(responses.read_text())


def ancestors(entity: TraceEntity, by_id: dict[str, TraceEntity]) -> list[str]:
    """The names of the entities above ``entity``, nearest first, up to one whose parent is not known."""
    names = []
    while entity.parent_id in by_id:
        entity = by_id[entity.parent_id]
        names.append(entity.name)
    return names


def test_dynamodb_calls_nest_under_the_handler_and_items_carry_their_ids(
    aws: EmbeddedAws, share_table: ShareTable, tmp_path: Path
) -> None:
    for item_id in ("item-a", "item-b", "item-c"):
        share_table.put_item(item_id, public=True)
    first = sqs_event(
        sqs_record(share_body("item-a", "u1", "e-a1")),
        sqs_record(share_body("item-a", "u2", "e-a2")),
        sqs_record(share_body("item-b", "u1", "e-b1")),
        sqs_record(share_body("item-c", "u1", "e-c1")),
        sqs_record(share_body("missing-item", "u1", "e-missing")),
        sqs_record("not json", "invalid-message"),
    )
    second = sqs_event(
        sqs_record(share_body("item-b", "u1", "e-b1")), sqs_record(share_body("item-b", "u3", "e-b3"))
    )
    invocations = [
        {"traceHeader": f"Root={trace};Parent={parent};Sampled=1", "event": event}
        for trace, parent, event in zip(TRACES, LAMBDA_SEGMENT_IDS, (first, second), strict=True)
    ]

    with XRayDaemon() as daemon:
        responses = traced_run(invocations, share_table.name, daemon, tmp_path)

    assert [failed_ids(response) for response in responses] == [["invalid-message"], []]
    assert [shared_count(share_table, item) for item in ("item-a", "item-b", "item-c")] == [2, 2, 1]
    entities = daemon.entities()
    by_id = {entity.id: entity for entity in entities}
    for trace, lambda_segment in zip(TRACES, LAMBDA_SEGMENT_IDS, strict=True):
        in_trace = [entity for entity in entities if _trace_of(entity, by_id) == trace]
        [handler] = [entity for entity in in_trace if entity.name == HANDLER_SUBSEGMENT]
        assert handler.parent_id == lambda_segment  # the segment Lambda itself sends
        calls = [entity for entity in in_trace if entity.name == DYNAMODB_SUBSEGMENT]
        assert calls, "no DynamoDB subsegment in the trace"
        for call in calls:
            assert HANDLER_SUBSEGMENT in ancestors(call, by_id), (
                call.document["aws"],
                ancestors(call, by_id),
            )
            if call.document["aws"]["operation"] == "TransactWriteItems":
                assert ancestors(call, by_id)[0] == ITEM_SUBSEGMENT

    first_items = _items(entities, by_id, TRACES[0])
    assert first_items == {"item-a": "e-a1 e-a2", "item-b": "e-b1", "item-c": "e-c1"}
    assert _items(entities, by_id, TRACES[1]) == {"item-b": "e-b3"}  # e-b1: a duplicate, settled by the read
    [handler] = [e for e in entities if e.name == HANDLER_SUBSEGMENT and _trace_of(e, by_id) == TRACES[0]]
    assert {key: handler.annotations[key] for key in BATCH_COUNTS} == {
        "BatchSize": 6,
        "ShareEventsProcessed": 4,
        "ItemNotFound": 1,
        "ValidationErrors": 1,
        "DuplicateEvents": 0,
        "FailedRecords": 1,
        "TransactionRetries": 0,
    }


BATCH_COUNTS = (
    "BatchSize",
    "ShareEventsProcessed",
    "ItemNotFound",
    "ValidationErrors",
    "DuplicateEvents",
    "FailedRecords",
    "TransactionRetries",
)


def _trace_of(entity: TraceEntity, by_id: dict[str, TraceEntity]) -> str:
    while "trace_id" not in entity.document and entity.parent_id in by_id:
        entity = by_id[entity.parent_id]
    return str(entity.document.get("trace_id"))


def _items(entities: list[TraceEntity], by_id: dict[str, TraceEntity], trace: str) -> dict[str, str]:
    """item_id -> event_id annotations of the trace's per-item subsegments."""
    return {
        entity.annotations["item_id"]: entity.annotations["event_id"]
        for entity in entities
        if entity.name == ITEM_SUBSEGMENT and _trace_of(entity, by_id) == trace
    }


def test_a_batch_cut_off_by_a_hanging_transaction_still_sends_its_handler_subsegment(
    aws: EmbeddedAws, share_table: ShareTable, tmp_path: Path
) -> None:
    """The threads still in a request at the cutoff leave their subsegments open; the SDK sends no
    subsegment with an open child, so they are closed as abandoned, and the batch's counts arrive."""
    items = ["item-a", "item-b"]
    for item_id in items:
        share_table.put_item(item_id, public=True)
    event = sqs_event(
        *(sqs_record(share_body(item_id, event_id=f"e-{item_id}"), f"m-{item_id}") for item_id in items)
    )
    invocation = {"traceHeader": f"Root={TRACES[0]};Parent={LAMBDA_SEGMENT_IDS[0]};Sampled=1", "event": event}

    with fault_proxy(aws.endpoint_url) as proxy, XRayDaemon() as daemon:
        proxy.inject(FaultKind.TRICKLE, times=100, operation=TRANSACT_WRITE)
        [response] = traced_run(
            [{**invocation, "budgetS": 6.0}],
            share_table.name,
            daemon,
            tmp_path,
            AWS_ENDPOINT_URL=proxy.endpoint_url,
        )

    assert failed_ids(response) == ["m-item-a", "m-item-b"]
    entities = daemon.entities()
    by_id = {entity.id: entity for entity in entities}
    [handler] = [entity for entity in entities if entity.name == HANDLER_SUBSEGMENT]
    assert (handler.annotations["FailedRecords"], handler.annotations["BatchSize"]) == (2, 2)
    items_traced = [entity for entity in entities if entity.name == ITEM_SUBSEGMENT]
    assert {entity.annotations["item_id"] for entity in items_traced} == set(items)
    for entity in items_traced:
        assert entity.annotations.get("abandoned") is True and entity.document.get("fault") is True
        assert ancestors(entity, by_id)[0] == HANDLER_SUBSEGMENT
