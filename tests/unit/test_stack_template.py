"""The template instantiated for a stack: parameters, mappings and names resolved as CloudFormation would."""

from __future__ import annotations

import copy

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
