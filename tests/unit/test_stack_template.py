"""The template instantiated for a stack: parameters, mappings and names resolved as CloudFormation would."""

from __future__ import annotations

import copy
import re

import pytest

from local_runtime.stack.template import DLQ_ID, QUEUE_ID, TABLE_ID, Stack, TemplateError, load_template


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

    assert queue["VisibilityTimeout"] == 6 * 90 + 5  # the default window
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
        (
            {"ProcessingErrorsAlarmMinutes": "5", "ProcessingErrorsAlarmWindowMinutes": "4"},
            "ProcessingErrorsAlarmMinutes 5 is more than ProcessingErrorsAlarmWindowMinutes 4",
        ),
        (
            {"BatchSize": "10000", "FunctionTimeout": "10"},
            "BatchSize 10000 with FunctionTimeout 10 leaves less than 1000 ms to write: each invocation "
            "keeps 9500 ms back (4500 ms of margin and 0.5 ms a record); lower BatchSize or raise",
        ),
        (
            {"MaximumBatchingWindowInSeconds": "05"},
            "parameter MaximumBatchingWindowInSeconds must be one of 0, 1, 2, 3, 4, 5, 10, 15, 20, 30, 45, "
            "60, 90, 120, 180, 240, 300, got 05:",
        ),
        (
            {"FunctionTimeout": "030"},
            "parameter FunctionTimeout must be one of 10, 15, 20, 30, 45, 60, 90, 120, got 030:",
        ),
        (
            {"MaximumBatchingWindowInSeconds": "+10"},
            "parameter MaximumBatchingWindowInSeconds must be one of 0, 1, 2, 3, 4, 5, 10, 15, 20, 30, 45, "
            "60, 90, 120, 180, 240, 300, got +10:",
        ),
        (
            {"FunctionTimeout": "10", "MaximumBatchingWindowInSeconds": "65"},
            "parameter MaximumBatchingWindowInSeconds must be one of 0, 1, 2, 3, 4, 5, 10, 15, 20, 30, 45, "
            "60, 90, 120, 180, 240, 300, got 65: one of the listed values: the queue's visibility timeout, "
            "six times the function timeout plus the batching window (AWS's recommendation), is looked up",
        ),
    ],
)
def test_values_cloudformation_would_refuse_are_refused_with_its_reason(
    overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        Stack(overrides=overrides).validate()


def test_deciding_drops_the_table_picks_each_branch_and_looks_the_mappings_up() -> None:
    decided = Stack(overrides={"ExistingTableName": "wardrobe-app", "FunctionTimeout": 60}).decided()

    assert TABLE_ID not in decided["Resources"]
    assert "Conditions" not in decided and "Rules" not in decided and "Mappings" not in decided
    assert decided["Resources"][QUEUE_ID]["Properties"]["VisibilityTimeout"] == 6 * 60 + 5
    variables = decided["Resources"]["ShareWorkerLambda"]["Properties"]["Environment"]["Variables"]
    assert variables["TABLE_NAME"] == {"Ref": "ExistingTableName"}
    assert "AlarmActions" not in decided["Resources"]["DeadLetterQueueAlarm"]["Properties"]


def test_fn_sub_with_a_variable_map_takes_its_variables_first_then_parameters_and_pseudo_parameters() -> None:
    """The list form is what the CDK writes when a value of the app (a table's ``Ref``) fills a variable."""
    stack = Stack(name="shop", overrides={"ExistingTableName": "ignored"}).with_known(
        {"AppTable": "wardrobe-app"}
    )
    arn = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${ExistingTableName}"

    resolved = stack.resolve({"Fn::Sub": [arn, {"ExistingTableName": {"Ref": "AppTable"}}]})

    assert resolved == "arn:aws:dynamodb:us-east-1:123456789012:table/wardrobe-app"
    assert stack.resolve({"Fn::Sub": ["${AWS::StackName}-${Suffix}", {"Suffix": "dlq"}]}) == "shop-dlq"


@pytest.mark.parametrize("form", ["one string", "with a variable map"])
def test_fn_sub_writes_an_escaped_variable_as_it_is_without_the_exclamation_mark(form: str) -> None:
    text = "${AWS::StackName} costs ${!Price}"
    argument = text if form == "one string" else [text, {"Price": "ignored"}]

    assert Stack(name="shop").resolve({"Fn::Sub": argument}) == "shop costs ${Price}"


def test_a_malformed_fn_sub_is_named() -> None:
    with pytest.raises(TemplateError, match=r"Fn::Sub takes a string, or a string and a map of variables"):
        Stack().resolve({"Fn::Sub": ["${AWS::StackName}"]})


def test_the_visibility_timeout_outlasts_the_batching_window_and_six_function_timeouts() -> None:
    """The review's case: a 10 s timeout gave 60 s, and a 65 s window then received a message twice."""
    stack = Stack(overrides={"FunctionTimeout": "10", "MaximumBatchingWindowInSeconds": "60"})

    stack.validate()
    assert stack.properties(QUEUE_ID, "VisibilityTimeout") == {"VisibilityTimeout": 6 * 10 + 60}


def test_the_longest_stack_name_is_the_one_whose_function_name_has_lambda_s_64_characters() -> None:
    """``<stack>-share-worker``: 13 characters after the stack's name; the queues, alarm, log group and table
    leave it more."""
    Stack(name="w" * 51).validate()

    with pytest.raises(
        TemplateError,
        match=re.escape(
            f"stack name {'w' * 52!r} has 52 characters, and the names the template derives from it allow "
            f"51: the FunctionName of ShareWorkerLambda, {'w' * 52 + '-share-worker'!r}, would have 65, and "
            "AWS allows 64"
        ),
    ):
        Stack(name="w" * 52).validate()


def test_the_longest_stack_name_follows_the_template_s_name_patterns() -> None:
    template = copy.deepcopy(load_template())
    template["Resources"]["ShareWorkerLambda"]["Properties"]["FunctionName"] = {
        "Fn::Sub": "${AWS::StackName}"
    }

    with pytest.raises(TemplateError, match=r"allow 63: the QueueName of ShareEventsDeadLetterQueue"):
        Stack(template, name="q" * 64).validate()
    Stack(template, name="q" * 63).validate()
