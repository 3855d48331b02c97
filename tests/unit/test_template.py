"""``template.yaml`` keeps the deployment contract of DESIGN.md, and its SAM parts survive the transform.

cfn-lint alone validates SAM resources only against its own SAM schema, which lets through values
such as ``MaximumConcurrency: 1`` in an SQS event. So the template is also transformed offline with
samtranslator and the resulting CloudFormation is linted, as CloudFormation would see it.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint
from samtranslator.translator.transform import transform

from local_runtime.template import DLQ_ID, FUNCTION_ID, QUEUE_ID, TABLE_ID, load_template
from services.config import DEFAULT_DEADLINE_MARGIN_MS, MIN_DEDUP_TTL_DAYS

ROOT = Path(__file__).resolve().parents[2]
DYNAMODB_SERVICE = ROOT / "src" / "services" / "dynamodb_service.py"
CODE_URI_PLACEHOLDER = "s3://placeholder-bucket/share-worker.zip"

IAM_ACTION_OF_CALL = {
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem",
    "batch_get_item": "dynamodb:BatchGetItem",
    "batch_write_item": "dynamodb:BatchWriteItem",
    "query": "dynamodb:Query",
    "scan": "dynamodb:Scan",
    "transact_get_items": "dynamodb:GetItem",
}
"""boto3 calls and the IAM action each needs. ``transact_write_items`` has none of its own: each of
its actions needs its own (PutItem, UpdateItem), which the worker's other calls already require."""


class NoManagedPolicies:
    """samtranslator's policy loader, offline: the template attaches no managed policy to look up."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture
def sam_transform(monkeypatch: pytest.MonkeyPatch) -> Any:
    def run(source: dict[str, Any]) -> dict[str, Any]:
        document = copy.deepcopy(source)
        document["Resources"][FUNCTION_ID]["Properties"]["CodeUri"] = CODE_URI_PLACEHOLDER
        transformed: dict[str, Any] = transform(document, {}, NoManagedPolicies())
        return transformed

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return run


def lint_findings(document: dict[str, Any]) -> list[str]:
    return [f"{match.rule.id} {match.message}" for match in lint(json.dumps(document))]


def properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return resource


def default(template: dict[str, Any], parameter: str) -> Any:
    return template["Parameters"][parameter]["Default"]


def test_transformed_template_passes_cfn_lint(template: dict[str, Any], sam_transform: Any) -> None:
    assert lint_findings(sam_transform(template)) == []


def test_transformed_lint_catches_an_event_source_value_sam_lint_lets_through(
    template: dict[str, Any], sam_transform: Any
) -> None:
    broken = copy.deepcopy(template)
    broken["Parameters"]["MaximumConcurrency"].update(Default=1, MinValue=1)

    findings = lint_findings(sam_transform(broken))

    assert any("MaximumConcurrency" in finding and "minimum of 2" in finding for finding in findings)


def test_table_is_the_single_table_design_with_ttl_recovery_and_encryption(template: dict[str, Any]) -> None:
    table = properties(template, TABLE_ID)

    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert table["AttributeDefinitions"] == [
        {"AttributeName": "PK", "AttributeType": "S"},
        {"AttributeName": "SK", "AttributeType": "S"},
    ]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ExpiresAt", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert template["Resources"][TABLE_ID]["DeletionPolicy"] == "Retain"


def test_queue_redrives_to_the_dlq_after_max_receive_count(template: dict[str, Any]) -> None:
    queue, dlq = properties(template, QUEUE_ID), properties(template, DLQ_ID)

    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [DLQ_ID, "Arn"]},
        "maxReceiveCount": {"Ref": "MaxReceiveCount"},
    }
    assert default(template, "MaxReceiveCount") == 3
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_dedup_markers_outlive_the_longest_a_message_can_stay_in_the_queues(template: dict[str, Any]) -> None:
    longest_retention_days = max(
        properties(template, queue_id).get("MessageRetentionPeriod", 4 * 24 * 3600)
        for queue_id in (QUEUE_ID, DLQ_ID)
    ) / (24 * 3600)

    assert template["Parameters"]["DedupTtlDays"]["MinValue"] >= longest_retention_days == MIN_DEDUP_TTL_DAYS
    assert default(template, "DedupTtlDays") >= MIN_DEDUP_TTL_DAYS


def test_function_timeouts_leave_time_to_work_after_the_deadline_margin(template: dict[str, Any]) -> None:
    for seconds in template["Parameters"]["FunctionTimeout"]["AllowedValues"]:
        assert int(seconds) * 1000 > 2 * DEFAULT_DEADLINE_MARGIN_MS, f"timeout {seconds} s"


def test_visibility_timeout_is_at_least_six_function_timeouts_for_every_allowed_timeout(
    template: dict[str, Any],
) -> None:
    timeout = template["Parameters"]["FunctionTimeout"]
    lookup = template["Mappings"]["VisibilityTimeoutByFunctionTimeout"]

    assert properties(template, QUEUE_ID)["VisibilityTimeout"] == {
        "Fn::FindInMap": ["VisibilityTimeoutByFunctionTimeout", {"Ref": "FunctionTimeout"}, "Seconds"]
    }
    assert properties(template, FUNCTION_ID)["Timeout"] == {"Ref": "FunctionTimeout"}
    assert sorted(int(key) for key in lookup) == sorted(timeout["AllowedValues"])
    assert timeout["Default"] in timeout["AllowedValues"]
    for seconds, row in lookup.items():
        assert row["Seconds"] >= 6 * int(seconds), f"timeout {seconds} s"


def test_alarm_fires_when_the_dlq_holds_a_message(template: dict[str, Any]) -> None:
    alarm = properties(template, "DeadLetterQueueAlarm")

    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [DLQ_ID, "QueueName"]}}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


def test_function_runtime_code_tracing_and_powertools_environment(template: dict[str, Any]) -> None:
    function = properties(template, FUNCTION_ID)

    assert function["CodeUri"] == "src/"
    assert function["Handler"] == "handler.lambda_handler"
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["arm64"]
    assert function["Tracing"] == "Active"
    assert function["Environment"]["Variables"] == {
        "TABLE_NAME": {"Ref": TABLE_ID},
        "DEDUP_TTL_DAYS": {"Ref": "DedupTtlDays"},
        "POWERTOOLS_SERVICE_NAME": "ShareWorker",
        "POWERTOOLS_METRICS_NAMESPACE": "Wdrbe",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def test_sqs_event_source_settings(template: dict[str, Any]) -> None:
    event = properties(template, FUNCTION_ID)["Events"]["ShareEvents"]

    assert event["Type"] == "SQS"
    assert event["Properties"] == {
        "Queue": {"Fn::GetAtt": [QUEUE_ID, "Arn"]},
        "BatchSize": {"Ref": "BatchSize"},
        "MaximumBatchingWindowInSeconds": {"Ref": "MaximumBatchingWindowInSeconds"},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": {"Ref": "MaximumConcurrency"}},
    }
    assert default(template, "BatchSize") == 10
    assert default(template, "MaximumBatchingWindowInSeconds") == 5
    assert default(template, "MaximumConcurrency") == 10
    assert default(template, "FunctionTimeout") == 30


def test_dynamodb_permissions_are_exactly_the_calls_the_code_makes_on_this_table_only(
    template: dict[str, Any], sam_transform: Any
) -> None:
    calls = set(re.findall(r"\.(\w+)\(", DYNAMODB_SERVICE.read_text())) & set(IAM_ACTION_OF_CALL)
    transformed = sam_transform(template)
    role = transformed["Resources"]["ShareWorkerRole"]["Properties"]
    statements = [
        statement for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]
    ]
    dynamodb = [statement for statement in statements if "dynamodb:" in json.dumps(statement["Action"])]

    assert [statement["Resource"] for statement in dynamodb] == [{"Fn::GetAtt": [TABLE_ID, "Arn"]}]
    assert set(dynamodb[0]["Action"]) == {IAM_ACTION_OF_CALL[call] for call in calls}
    assert "ManagedPolicyArns" not in role
    function = transformed["Resources"][FUNCTION_ID]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["ShareWorkerRole", "Arn"]}


def test_outputs_name_the_queue_dlq_and_table(template: dict[str, Any]) -> None:
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}

    assert outputs["ShareEventsQueueUrl"] == {"Ref": QUEUE_ID}
    assert outputs["ShareEventsDeadLetterQueueUrl"] == {"Ref": DLQ_ID}
    assert outputs["ShareTableName"] == {"Ref": TABLE_ID}
