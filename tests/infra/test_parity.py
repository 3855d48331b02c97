"""The CDK path and the SAM path deploy the same worker for the same inputs.

SAM path: ``template.yaml`` with parameter values, through the SAM transform. CDK path: the
``ShareWorker`` construct with the matching props, synthesized, through the same transform. Both are
then resolved as CloudFormation would for one stack name (resource references stay names), and the
event source mapping, queue, DLQ, alarms, dashboard, role, log group, function (all but its code) and
outputs must be equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns

from infra.share_worker import ShareWorker
from infra.worker_props import AlarmThresholds
from local_runtime.template import DLQ_ID, FUNCTION_ID, QUEUE_ID, load_template
from local_runtime.template import Stack as TemplateStack
from tests.cloudformation import EveryResourceByName
from tests.infra.conftest import STACK_NAME, synthesize

EVENT_SOURCE_MAPPING_ID = f"{FUNCTION_ID}ShareEvents"
COMPARED = [
    EVENT_SOURCE_MAPPING_ID,
    QUEUE_ID,
    DLQ_ID,
    "DeadLetterQueueAlarm",
    "BacklogAgeAlarm",
    "ProcessingErrorsAlarm",
    "FunctionErrorsAlarm",
    "FunctionThrottlesAlarm",
    "ShareWorkerDashboard",
    "ShareWorkerRole",
    "ShareWorkerLogGroup",
    FUNCTION_ID,
]
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ops"

Props = Callable[[Stack], dict[str, Any]]

CASES: dict[str, tuple[dict[str, str | int], Props]] = {
    "template defaults, own table": ({}, lambda stack: {}),
    "product owner's example on the app's table, with every prop": (
        {
            "BatchSize": 20,
            "MaximumBatchingWindowInSeconds": 10,
            "MaxReceiveCount": 5,
            "MaximumConcurrency": 50,
            "FunctionTimeout": 60,
            "DedupTtlDays": 60,
            "ExistingTableName": "wardrobe-app",
            "AlarmTopicArn": TOPIC_ARN,
            "BacklogAgeAlarmSeconds": 900,
            "ProcessingErrorsAlarmThreshold": 2,
            "ProcessingErrorsAlarmMinutes": 10,
            "FunctionErrorsAlarmThreshold": 1,
            "FunctionThrottlesAlarmThreshold": 3,
        },
        lambda stack: {
            "batch_size": 20,
            "max_batching_window": Duration.seconds(10),
            "max_receive_count": 5,
            "max_concurrency": 50,
            "function_timeout": Duration.seconds(60),
            "dedup_ttl_days": 60,
            "table": dynamodb.Table.from_table_name(stack, "AppTable", "wardrobe-app"),
            "alarm_topic": sns.Topic.from_topic_arn(stack, "Ops", TOPIC_ARN),
            "alarm_thresholds": AlarmThresholds(
                backlog_age=Duration.minutes(15),
                processing_errors=2,
                processing_errors_minutes=10,
                function_errors=1,
                function_throttles=3,
            ),
        },
    ),
}


def applied(document: dict[str, Any], overrides: dict[str, str | int]) -> dict[str, Any]:
    """The compared resources (type and properties, not the function's code) and the outputs, resolved."""
    stack = TemplateStack(document, STACK_NAME, overrides=overrides, known=EveryResourceByName())
    resources = {
        logical_id: (
            resource["Type"],
            stack.resolve({key: value for key, value in resource["Properties"].items() if key != "Code"}),
        )
        for logical_id, resource in document["Resources"].items()
        if logical_id in COMPARED and stack.creates(logical_id)
    }
    compared: dict[str, Any] = as_text(
        {"Resources": resources, "Outputs": stack.resolve(document["Outputs"])}
    )
    return compared


def as_text(value: Any) -> Any:
    """Scalars as text: CloudFormation hands a parameter's value on as a string (``DEDUP_TTL_DAYS: "30"``,
    as the CDK writes it), where the local runtime's resolver gives a ``Number`` parameter as an int."""
    if isinstance(value, dict):
        return {key: as_text(member) for key, member in value.items()}
    if isinstance(value, list | tuple):
        return [as_text(member) for member in value]
    return json.dumps(value) if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("case", CASES)
def test_cdk_and_sam_paths_give_the_same_worker_for_the_same_inputs(case: str, sam_transform: Any) -> None:
    parameters, props = CASES[case]
    assert not parameters or set(parameters) == set(load_template()["Parameters"])
    cdk_path = synthesize(lambda stack: ShareWorker(stack, "ShareWorker", **props(stack))).document

    sam = applied(sam_transform(load_template()), parameters)
    cdk = applied(sam_transform(cdk_path), {})

    assert sorted(sam["Resources"]) == sorted(COMPARED)
    assert cdk == sam
