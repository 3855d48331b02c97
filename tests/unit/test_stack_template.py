"""The template instantiated for a stack: parameters, mappings and names resolved as CloudFormation would."""

from __future__ import annotations

import copy
import re

import pytest

from local_runtime.template import DLQ_ID, QUEUE_ID, TABLE_ID, Stack, TemplateError, load_template


def test_names_derive_from_the_stack_name() -> None:
    stack = Stack(name="shop-prod")

    assert stack.properties(TABLE_ID, "TableName") == {"TableName": "shop-prod-shares"}
    assert stack.properties(DLQ_ID, "QueueName") == {"QueueName": "shop-prod-share-events-dlq"}
    assert stack.function().name == "shop-prod-share-worker"
    assert stack.function().environment["TABLE_NAME"] == "shop-prod-shares"


def test_event_source_and_function_settings_come_from_the_template_defaults() -> None:
    stack = Stack()

    source, function = stack.event_source(), stack.function()

    assert (source.batch_size, source.batching_window_s, source.maximum_concurrency) == (10, 5, 10)
    assert source.report_batch_item_failures
    assert (function.handler, function.timeout_s, function.memory_mb) == ("handler.lambda_handler", 30, 256)
    assert function.environment["POWERTOOLS_SERVICE_NAME"] == "ShareWorker"


def test_overrides_pass_through_parameters_and_mappings() -> None:
    stack = Stack(overrides={"FunctionTimeout": "90", "BatchSize": "4"}).with_known(
        {f"{DLQ_ID}.Arn": "arn:aws:sqs:us-east-1:1:dlq"}
    )

    queue = stack.properties(QUEUE_ID, "VisibilityTimeout", "RedrivePolicy")

    assert queue["VisibilityTimeout"] == 540
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq",
        "maxReceiveCount": 3,
    }
    assert stack.event_source().batch_size == 4


def test_a_resource_attribute_is_only_known_once_the_resource_exists() -> None:
    with pytest.raises(TemplateError, match=f"{DLQ_ID}.Arn is only known once the resource exists"):
        Stack().properties(QUEUE_ID, "RedrivePolicy")


def test_a_non_numeric_override_of_a_number_parameter_is_refused() -> None:
    with pytest.raises(TemplateError, match="parameter BatchSize must be a whole number, got 'ten'"):
        Stack(overrides={"BatchSize": "ten"}).event_source()


def test_an_intrinsic_the_local_runtime_cannot_resolve_is_named() -> None:
    template = copy.deepcopy(load_template())
    template["Resources"][TABLE_ID]["Properties"]["TableName"] = {"Fn::ImportValue": "shared-table"}

    with pytest.raises(TemplateError, match="Fn::ImportValue is not supported by the local runtime"):
        Stack(template).properties(TABLE_ID, "TableName")


def test_fn_sub_takes_a_variable_of_its_own_map_before_parameters_and_pseudo_parameters() -> None:
    template = copy.deepcopy(load_template())
    template["Resources"][TABLE_ID]["Properties"]["TableName"] = {
        "Fn::Sub": ["${AWS::StackName}-${Receives}-${BatchSize}", {"Receives": {"Ref": "MaxReceiveCount"}}]
    }

    assert Stack(template, name="shop").properties(TABLE_ID, "TableName") == {"TableName": "shop-3-10"}


def test_an_existing_table_name_replaces_the_stack_s_own_table() -> None:
    own, app = Stack(name="shop"), Stack(name="shop", overrides={"ExistingTableName": "wardrobe-app"})

    assert (own.creates(TABLE_ID), own.table_name()) == (True, "shop-shares")
    assert (app.creates(TABLE_ID), app.table_name()) == (False, "wardrobe-app")
    assert app.creates(QUEUE_ID)


def test_a_property_under_a_false_condition_is_left_out() -> None:
    quiet = Stack().properties("DeadLetterQueueAlarm", "AlarmActions", "OKActions")
    topic = "arn:aws:sns:us-east-1:1:ops"
    heard = Stack(overrides={"AlarmTopicArn": topic}).properties("DeadLetterQueueAlarm", "AlarmActions")

    assert quiet == {}
    assert heard == {"AlarmActions": [topic]}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"BatchSizes": "20"}, "template has no parameter BatchSizes"),
        ({"BatchSize": "0"}, "parameter BatchSize must be at least 1, got 0"),
        (
            {"FunctionTimeout": "25"},
            "parameter FunctionTimeout must be one of 10, 15, 20, 30, 45, 60, 90, 120",
        ),
        (
            {"ExistingTableName": "app#items"},
            "parameter ExistingTableName must be empty, or a DynamoDB table",
        ),
        (
            {"BatchSize": "20", "MaximumBatchingWindowInSeconds": "0"},
            "rule BatchSizeAboveTen: BatchSize above 10 needs MaximumBatchingWindowInSeconds of at least 1",
        ),
    ],
)
def test_values_cloudformation_would_refuse_are_refused_with_its_reason(
    overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        Stack(overrides=overrides).validate()


def test_deciding_the_conditions_drops_the_table_and_picks_each_branch() -> None:
    decided = Stack(overrides={"ExistingTableName": "wardrobe-app"}).with_conditions_decided()

    assert TABLE_ID not in decided["Resources"]
    assert "Conditions" not in decided and "Rules" not in decided
    variables = decided["Resources"]["ShareWorkerLambda"]["Properties"]["Environment"]["Variables"]
    assert variables["TABLE_NAME"] == {"Ref": "ExistingTableName"}
    assert "AlarmActions" not in decided["Resources"]["DeadLetterQueueAlarm"]["Properties"]
