"""Provisioned resources carry the template's settings, read back from the embedded server over HTTP."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.stack.provision import StackResources, provision
from local_runtime.stack.template import DLQ_ID, QUEUE_ID, TABLE_ID, Stack, load_template

pytestmark = pytest.mark.integration


def provisioned(**overrides: str) -> StackResources:
    stack = Stack(name=f"test-{uuid.uuid4().hex[:10]}", overrides=overrides)
    return provision(stack, boto3.client("dynamodb"), boto3.client("sqs"))


def queue_attributes(url: str) -> dict[str, str]:
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return {str(name): value for name, value in attributes.items()}


def test_queues_and_table_have_the_settings_written_in_the_template(aws: EmbeddedAws) -> None:
    template: dict[str, Any] = load_template()
    timeout = template["Parameters"]["FunctionTimeout"]["Default"]
    window = template["Parameters"]["MaximumBatchingWindowInSeconds"]["Default"]
    visibility = template["Mappings"]["VisibilityTimeoutByTimeoutAndWindow"][str(timeout)][str(window)]
    dlq_properties = template["Resources"][DLQ_ID]["Properties"]
    table_properties = template["Resources"][TABLE_ID]["Properties"]

    resources = provisioned()

    queue, dlq = queue_attributes(resources.queue_url), queue_attributes(resources.dlq_url)
    assert queue["VisibilityTimeout"] == str(visibility)
    assert json.loads(queue["RedrivePolicy"]) == {
        "deadLetterTargetArn": resources.dlq_arn,
        "maxReceiveCount": template["Parameters"]["MaxReceiveCount"]["Default"],
    }
    assert queue["SqsManagedSseEnabled"] == dlq["SqsManagedSseEnabled"] == "true"
    assert dlq["MessageRetentionPeriod"] == str(dlq_properties["MessageRetentionPeriod"])
    dynamodb = boto3.client("dynamodb")
    table = dynamodb.describe_table(TableName=resources.table_name)["Table"]
    assert table["KeySchema"] == table_properties["KeySchema"]
    assert table["AttributeDefinitions"] == table_properties["AttributeDefinitions"]
    assert table["BillingModeSummary"]["BillingMode"] == table_properties["BillingMode"]
    assert table["SSEDescription"]["Status"] == "ENABLED"
    ttl = dynamodb.describe_time_to_live(TableName=resources.table_name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ExpiresAt")
    backups = dynamodb.describe_continuous_backups(TableName=resources.table_name)[
        "ContinuousBackupsDescription"
    ]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_parameter_overrides_flow_into_the_queue_as_cloudformation_would_apply_them(aws: EmbeddedAws) -> None:
    resources = provisioned(FunctionTimeout="60", MaximumBatchingWindowInSeconds="20", MaxReceiveCount="5")

    queue = queue_attributes(resources.queue_url)

    assert queue["VisibilityTimeout"] == str(6 * 60 + 20)
    assert json.loads(queue["RedrivePolicy"])["maxReceiveCount"] == 5


def test_provisioning_an_existing_stack_again_changes_nothing(aws: EmbeddedAws) -> None:
    stack = Stack(name=f"test-{uuid.uuid4().hex[:10]}")
    first = provision(stack, boto3.client("dynamodb"), boto3.client("sqs"))

    again = provision(stack, boto3.client("dynamodb"), boto3.client("sqs"))

    assert again == first
    assert queue_attributes(again.queue_url)["QueueArn"] == first.queue_arn
    assert QUEUE_ID in stack.template["Resources"]
