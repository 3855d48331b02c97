"""The CDK path and the SAM path deploy the same worker for the same inputs.

SAM path: ``template.yaml`` with parameter values, through the SAM transform. CDK path: the
``ShareWorker`` construct with the matching props, synthesized, through the same transform. Both are
then resolved as CloudFormation would for one stack name (resource references stay names, a table's
is its name), and the event source mapping, queue, DLQ, alarms, dashboard, role, log group, function
(all but its code) and outputs must be equal, types included: the one difference allowed is
CloudFormation's own, a parameter's value handed on as text (:class:`ParameterText`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns

from infra.share_worker import ShareWorker
from infra.worker_props import AlarmThresholds
from local_runtime.stack.template import DLQ_ID, FUNCTION_ID, QUEUE_ID, load_template
from local_runtime.stack.template import Stack as TemplateStack
from tests.cloudformation import EveryResourceByName
from tests.infra.conftest import STACK_NAME, app_table, synthesize

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
APP_TABLE = "wardrobe-app"

Props = Callable[[Stack], dict[str, Any]]

EVERY_PROP = "product owner's example on the app's table imported by name, with every prop"
CASES: dict[str, tuple[dict[str, str | int], Props]] = {
    "template defaults, own table": ({}, lambda stack: {}),
    EVERY_PROP: (
        {
            "BatchSize": 20,
            "MaximumBatchingWindowInSeconds": 10,
            "MaxReceiveCount": 5,
            "MaximumConcurrency": 50,
            "FunctionTimeout": 60,
            "DedupTtlDays": 60,
            "ExistingTableName": APP_TABLE,
            "AlarmTopicArn": TOPIC_ARN,
            "BacklogAgeAlarmSeconds": 900,
            "ProcessingErrorsAlarmThreshold": 2,
            "ProcessingErrorsAlarmMinutes": 4,
            "ProcessingErrorsAlarmWindowMinutes": 15,
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
            "table": dynamodb.Table.from_table_name(stack, "AppTable", APP_TABLE),
            "alarm_topic": sns.Topic.from_topic_arn(stack, "Ops", TOPIC_ARN),
            "alarm_thresholds": AlarmThresholds(
                backlog_age=Duration.minutes(15),
                processing_errors=2,
                processing_errors_minutes=4,
                processing_errors_window_minutes=15,
                function_errors=1,
                function_throttles=3,
            ),
        },
    ),
    "product owner's example on a table of the same stack (infra/app.py's shape)": (
        {
            "BatchSize": 20,
            "MaximumBatchingWindowInSeconds": 10,
            "MaxReceiveCount": 5,
            "ExistingTableName": APP_TABLE,
        },
        lambda stack: {
            "batch_size": 20,
            "max_batching_window": Duration.seconds(10),
            "max_receive_count": 5,
            "table": app_table(stack, APP_TABLE),
        },
    ),
}


class ParameterText(str):
    """A parameter's value as CloudFormation hands it on: text (``Ref`` to the ``Number`` 20 gives
    ``"20"``), which it converts to the type of the property it lands in. So it equals the number, the
    boolean or the string that the property would get from a literal with the same text."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bool):
            return str(self) == str(other).lower()
        return isinstance(other, str | int) and str(self) == str(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__


class AsCloudFormationHandsParametersOn(TemplateStack):
    """The local runtime's resolver, but a parameter's value is :class:`ParameterText` (the local
    runtime wants the number itself)."""

    def parameter(self, name: str) -> str | int:
        return ParameterText(super().parameter(name))


def applied(document: dict[str, Any], overrides: dict[str, str | int]) -> dict[str, Any]:
    """The compared resources (type and properties, not the function's code) and the outputs, resolved."""
    tables = {
        logical_id: resource["Properties"]["TableName"]
        for logical_id, resource in document["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
        and isinstance(resource.get("Properties", {}).get("TableName"), str)
    }
    stack = AsCloudFormationHandsParametersOn(
        document, STACK_NAME, overrides=overrides, known=EveryResourceByName(tables)
    )
    resources = {
        logical_id: (
            resource["Type"],
            stack.resolve({key: value for key, value in resource["Properties"].items() if key != "Code"}),
        )
        for logical_id, resource in document["Resources"].items()
        if logical_id in COMPARED and stack.creates(logical_id)
    }
    return {"Resources": resources, "Outputs": stack.resolve(document["Outputs"])}


def test_one_case_gives_every_template_parameter() -> None:
    assert set(CASES[EVERY_PROP][0]) == set(load_template()["Parameters"])


@pytest.mark.parametrize("case", CASES)
def test_cdk_and_sam_paths_give_the_same_worker_for_the_same_inputs(case: str, sam_transform: Any) -> None:
    parameters, props = CASES[case]
    cdk_path = synthesize(lambda stack: ShareWorker(stack, "ShareWorker", **props(stack))).document

    sam = applied(sam_transform(load_template()), parameters)
    cdk = applied(sam_transform(cdk_path), {})

    assert sorted(sam["Resources"]) == sorted(COMPARED)
    assert cdk == sam


def test_parameter_text_is_the_value_cloudformation_converts_it_to_and_nothing_else() -> None:
    sam = {"BatchSize": ParameterText("20"), "Enabled": ParameterText("true"), "Name": ParameterText("20")}

    assert sam == {"BatchSize": 20, "Enabled": True, "Name": "20"}
    assert sam != {"BatchSize": 21, "Enabled": True, "Name": "20"}
    assert sam != {"BatchSize": [20], "Enabled": True, "Name": "20"}
    assert sam != {"BatchSize": 20, "Enabled": 1, "Name": "20"}


def test_a_literal_of_another_type_is_a_difference(sam_transform: Any) -> None:
    template = load_template()
    changed = copy.deepcopy(template)
    changed["Resources"][FUNCTION_ID]["Properties"]["MemorySize"] = "256"

    assert applied(sam_transform(changed), {}) != applied(sam_transform(template), {})
