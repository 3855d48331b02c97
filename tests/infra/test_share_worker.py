"""The ``ShareWorker`` construct, synthesized offline and read back with ``aws_cdk.assertions``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import App, CfnParameter, Duration, Environment, Fn, NestedStack, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk.assertions import Match, Template

from infra.bundling import NO_BUNDLING
from infra.share_worker import ShareWorker
from infra.worker_props import AlarmThresholds
from local_runtime.stack.template import DLQ_ID, FUNCTION_ID, QUEUE_ID, ROLE_ID, TABLE_ID, load_template
from local_runtime.stack.template import Stack as Stack_
from tests.cloudformation import EveryResourceByName, lint_findings
from tests.infra.conftest import SOME_ENVIRONMENT, STACK_NAME, Synthesized, app_table, synthesize

ALARM = "AWS::CloudWatch::Alarm"
TABLE_ARN_OF_NAME = (
    "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${ExistingTableName}"
)


@pytest.fixture(scope="module")
def on_app_table() -> Synthesized:
    """The product owner's example (batch size 20, window 10 s, maxReceiveCount 5) on the app's table."""
    return synthesize(
        lambda stack: ShareWorker(
            stack,
            "ShareWorker",
            table=app_table(stack),
            batch_size=20,
            max_batching_window=Duration.seconds(10),
            max_receive_count=5,
            alarm_topic=sns.Topic(stack, "Ops"),
        )
    )


@pytest.fixture(scope="module")
def standalone() -> Synthesized:
    return synthesize(lambda stack: ShareWorker(stack, "ShareWorker"))


TABLE_STATEMENTS = (
    "ReadTheBatchSnapshot",
    "CountSharesOnItemsInTransactionsOnly",
    "WriteMarkersAndFeedEntriesInTransactionsOnly",
)
"""The role's statements on the table."""


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    role = document["Resources"]["ShareWorkerRole"]["Properties"]
    found: dict[str, Any]
    [found] = [
        statement
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if statement.get("Sid") == sid
    ]
    return found


def test_the_product_owner_s_example_reaches_the_event_source_and_the_queue(
    on_app_table: Synthesized,
) -> None:
    on_app_table.template.has_resource_properties(
        "AWS::Serverless::Function",
        {
            "Events": {
                "ShareEvents": {
                    "Type": "SQS",
                    "Properties": {
                        "Queue": {"Fn::GetAtt": [QUEUE_ID, "Arn"]},
                        "BatchSize": 20,
                        "MaximumBatchingWindowInSeconds": 10,
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        "ScalingConfig": {"MaximumConcurrency": 10},
                    },
                }
            },
            "Runtime": "python3.12",
            "Architectures": ["arm64"],
            "Timeout": 30,
        },
    )
    queue = Stack_(on_app_table.document, known=EveryResourceByName()).properties(QUEUE_ID)
    assert queue["VisibilityTimeout"] == 6 * 30 + 10
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": f"<{DLQ_ID}.Arn>", "maxReceiveCount": 5}


def test_the_queue_s_visibility_timeout_is_looked_up_at_synth_never_with_an_integer_key(
    on_app_table: Synthesized,
) -> None:
    """The SAM path looks it up with the text of ``FunctionTimeout`` (CloudFormation hands a ``Number``
    parameter on as a string); the construct's values are numbers, so it looks it up itself, as it
    decides the conditions, and no ``Fn::FindInMap`` is left to get an integer key."""
    document = on_app_table.document

    assert document["Resources"][QUEUE_ID]["Properties"]["VisibilityTimeout"] == 6 * 30 + 10
    assert "Mappings" not in document
    assert "Fn::FindInMap" not in json.dumps(document)


def test_on_the_app_s_table_the_worker_creates_none_and_its_role_names_that_table_only(
    on_app_table: Synthesized,
) -> None:
    document, table_id = (
        on_app_table.document,
        on_app_table.logical_id(on_app_table.stack.node.find_child("AppTable")),
    )

    assert list(on_app_table.template.find_resources("AWS::DynamoDB::Table")) == [table_id]
    for sid in TABLE_STATEMENTS:
        assert statement(document, sid)["Resource"] == {
            "Fn::Sub": [TABLE_ARN_OF_NAME, {"ExistingTableName": {"Ref": table_id}}]
        }
    function = document["Resources"][FUNCTION_ID]["Properties"]
    assert function["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": table_id}
    assert "Conditions" not in document


def test_standalone_the_worker_has_a_table_of_its_own_with_keys_and_ttl(standalone: Synthesized) -> None:
    standalone.template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": Match.object_like(
                {
                    "TableName": {"Fn::Sub": "${AWS::StackName}-shares"},
                    "TimeToLiveSpecification": {"AttributeName": "ExpiresAt", "Enabled": True},
                }
            ),
            "DeletionPolicy": "Retain",
        },
    )
    document = standalone.document
    for sid in TABLE_STATEMENTS:
        assert statement(document, sid)["Resource"] == {"Fn::GetAtt": [TABLE_ID, "Arn"]}
    function = document["Resources"][FUNCTION_ID]["Properties"]
    assert function["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": TABLE_ID}


def test_every_alarm_notifies_the_topic_only_when_one_is_given(
    on_app_table: Synthesized, standalone: Synthesized
) -> None:
    topic_id = on_app_table.logical_id(on_app_table.stack.node.find_child("Ops"))

    heard = on_app_table.template.find_resources(ALARM)
    quiet = standalone.template.find_resources(ALARM)

    in_template = [id_ for id_, resource in load_template()["Resources"].items() if resource["Type"] == ALARM]
    assert sorted(heard) == sorted(quiet) == sorted(in_template)
    for alarm in heard.values():
        actions = alarm["Properties"]["AlarmActions"], alarm["Properties"]["OKActions"]
        assert actions == ([{"Ref": topic_id}], [{"Ref": topic_id}])
    for alarm in quiet.values():
        assert "AlarmActions" not in alarm["Properties"] and "OKActions" not in alarm["Properties"]


@pytest.mark.parametrize("variant", ["on_app_table", "standalone"])
def test_the_synthesized_template_passes_cfn_lint_before_and_after_the_sam_transform(
    variant: str, request: pytest.FixtureRequest, sam_transform: Any
) -> None:
    document = request.getfixturevalue(variant).document

    assert lint_findings(document) == []
    assert lint_findings(sam_transform(document)) == []


def test_the_function_code_is_an_asset_of_src_for_sam(standalone: Synthesized) -> None:
    code_uri = standalone.document["Resources"][FUNCTION_ID]["Properties"]["CodeUri"]

    assert code_uri["Bucket"] == {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}
    assert code_uri["Key"].endswith(".zip")
    assert standalone.document["Transform"] == "AWS::Serverless-2016-10-31"


def test_queue_dlq_and_function_are_the_template_s_own(standalone: Synthesized) -> None:
    worker, resolve = standalone.worker, standalone.stack.resolve

    assert resolve(worker.queue.queue_arn) == {"Fn::GetAtt": [QUEUE_ID, "Arn"]}
    assert resolve(worker.queue.queue_url) == {"Ref": QUEUE_ID}
    assert resolve(worker.dead_letter_queue.queue_arn) == {"Fn::GetAtt": [DLQ_ID, "Arn"]}
    assert resolve(worker.dead_letter_queue.queue_url) == {"Ref": DLQ_ID}
    assert resolve(worker.function.function_arn) == {"Fn::GetAtt": [FUNCTION_ID, "Arn"]}
    assert resolve(worker.function.role.role_name) == {"Ref": ROLE_ID}


def policies_of_the_worker_s_role(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """The ``AWS::IAM::Policy`` resources attached to the template's role, beside its own inline policy."""
    return {
        logical_id: policy
        for logical_id, policy in synthesized.template.find_resources("AWS::IAM::Policy").items()
        if policy["Properties"]["Roles"] == [{"Ref": ROLE_ID}]
    }


def test_grants_to_the_function_land_on_the_worker_s_role() -> None:
    def build(stack: Stack) -> ShareWorker:
        worker = ShareWorker(stack, "ShareWorker")
        kms.Key(stack, "Key").grant_decrypt(worker.function)
        worker.function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::bucket/*"])
        )
        return worker

    synthesized = synthesize(build)

    [(policy_id, policy)] = policies_of_the_worker_s_role(synthesized).items()
    key_id = synthesized.logical_id(synthesized.stack.node.find_child("Key"))
    assert policy_id in synthesized.document["Resources"][FUNCTION_ID]["DependsOn"]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Fn::GetAtt": [key_id, "Arn"]}},
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": "arn:aws:s3:::bucket/*"},
    ]


@pytest.mark.parametrize("env", [None, SOME_ENVIRONMENT], ids=["environment-agnostic", "in an environment"])
def test_on_a_table_with_a_customer_managed_key_the_worker_may_use_that_key_before_it_starts(
    env: Environment | None,
) -> None:
    def build(stack: Stack) -> ShareWorker:
        table = dynamodb.Table(
            stack,
            "AppTable",
            partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=kms.Key(stack, "TableKey"),
        )
        return ShareWorker(stack, "ShareWorker", table=table)

    synthesized = synthesize(build, env)

    [(policy_id, policy)] = policies_of_the_worker_s_role(synthesized).items()
    key_id = synthesized.logical_id(synthesized.stack.node.find_child("TableKey"))
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
        }
    ]
    assert policy_id in synthesized.document["Resources"][FUNCTION_ID]["DependsOn"]
    assert lint_findings(synthesized.document) == []  # no cycle: the key's policy does not name the role


def test_a_table_without_a_key_of_its_own_adds_no_policy(on_app_table: Synthesized) -> None:
    assert on_app_table.template.find_resources("AWS::IAM::Policy") == {}


def test_a_topic_subscribed_to_the_queue_is_allowed_to_send_to_it() -> None:
    def build(stack: Stack) -> ShareWorker:
        worker = ShareWorker(stack, "ShareWorker")
        sns.Topic(stack, "Shares").add_subscription(subscriptions.SqsSubscription(worker.queue))
        return worker

    synthesized = synthesize(build)

    [(policy_id, policy)] = synthesized.template.find_resources("AWS::SQS::QueuePolicy").items()
    [subscription] = synthesized.template.find_resources("AWS::SNS::Subscription").values()
    topic_id = synthesized.logical_id(synthesized.stack.node.find_child("Shares"))
    assert policy["Properties"]["Queues"] == [{"Ref": QUEUE_ID}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "sqs:SendMessage",
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": topic_id}}},
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Resource": {"Fn::GetAtt": [QUEUE_ID, "Arn"]},
        }
    ]
    assert subscription["Properties"]["Endpoint"] == {"Fn::GetAtt": [QUEUE_ID, "Arn"]}
    assert subscription["DependsOn"] == [policy_id]


def test_grant_send_messages_grants_send_message_get_queue_attributes_and_get_queue_url_on_the_queue() -> (
    None
):
    def build(stack: Stack) -> ShareWorker:
        worker = ShareWorker(stack, "ShareWorker")
        worker.grant_send_messages(
            iam.Role(stack, "Api", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        )
        return worker

    synthesized = synthesize(build)

    [policy] = synthesized.template.find_resources("AWS::IAM::Policy").values()
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [QUEUE_ID, "Arn"]},
        }
    ]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"batch_size": 20, "max_batching_window": Duration.seconds(0)},
            "rule BatchSizeAboveTen: BatchSize above 10 needs MaximumBatchingWindowInSeconds of at least 1",
        ),
        ({"batch_size": 20_000}, "parameter BatchSize must be at most 10000, got 20000"),
        (
            {"function_timeout": Duration.seconds(25)},
            "parameter FunctionTimeout must be one of 10, 15, 20, 30",
        ),
        ({"dedup_ttl_days": 7}, "parameter DedupTtlDays must be at least 14, got 7"),
        (
            {"function_timeout": Duration.seconds(10), "max_batching_window": Duration.seconds(65)},
            r"parameter MaximumBatchingWindowInSeconds must be one of 0, 1, 2, 3, 4, 5, 10, .*, 300, got 65: "
            r"one of the listed values: the queue's visibility timeout, six times the function timeout plus "
            r"the batching window \(AWS's recommendation\), is looked up for it",
        ),
        ({"batch_size": 20.7}, r"batch_size must be a whole number, got 20\.7"),
        (
            {"alarm_thresholds": AlarmThresholds(backlog_age=Duration.seconds(30))},
            "parameter BacklogAgeAlarmSeconds must be at least 60, got 30",
        ),
        (
            {"alarm_thresholds": AlarmThresholds(processing_errors_minutes=0.5)},  # type: ignore[arg-type]
            r"alarm_thresholds.processing_errors_minutes must be a whole number, got 0\.5",
        ),
        (
            {"batch_size": 20, "max_batching_window": Duration.seconds(1.5)},
            "max_batching_window must be a whole number of seconds, got 1 second 500 millis",
        ),
    ],
)
def test_values_the_template_refuses_are_refused_at_synth_with_its_reason(
    props: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"ShareWorker 'ShareWorker': {message}"):
        synthesize(lambda stack: ShareWorker(stack, "ShareWorker", **props))


def test_a_number_known_at_deploy_time_only_is_refused_with_the_reason() -> None:
    def build(stack: Stack) -> ShareWorker:
        batch_size = CfnParameter(stack, "BatchSize", type="Number", default=20).value_as_number
        return ShareWorker(stack, "ShareWorker", batch_size=batch_size)

    with pytest.raises(
        ValueError,
        match=r"ShareWorker 'ShareWorker': batch_size is a token \(a value known at deploy time only\): the "
        "construct checks the template's constraints and rules when it is created, so it needs the number",
    ):
        synthesize(build)


def deploy_time_text(stack: Stack, name: str) -> str:
    """A ``CfnParameter`` of the app's stack, empty by default: what the review's probe passed."""
    return str(CfnParameter(stack, name, default="").value_as_string)


@pytest.mark.parametrize(
    ("props", "refused"),
    [
        (
            lambda stack: {
                "table": dynamodb.Table.from_table_name(stack, "T", deploy_time_text(stack, "Name"))
            },
            "table's name is the stack's CfnParameter Name, a value known at deploy time only: the construct "
            "checks ExistingTableName's pattern and decides whether the stack creates a table when it is "
            'created, and such a value skips that (an empty one would give TABLE_NAME "" for the function '
            "and a role on table/); pass the table itself: a Table of the app, or Table.from_table_name with "
            "the name written out or from Fn.import_value; to choose it at deploy time, deploy template.yaml "
            "with SAM and its parameters",
        ),
        (
            lambda stack: {
                "table": dynamodb.Table.from_table_arn(stack, "T", deploy_time_text(stack, "Arn"))
            },
            "table's name is the stack's CfnParameter Arn, a value known at deploy time only",
        ),
        (
            lambda stack: {
                "alarm_topic": sns.Topic.from_topic_arn(stack, "Ops", deploy_time_text(stack, "Topic"))
            },
            "alarm_topic's ARN is the stack's CfnParameter Topic, a value known at deploy time only: the "
            "construct decides whether the alarms notify a topic when it is created, and such a value skips "
            'that (an empty one would give AlarmActions [""] for every alarm); pass the topic itself: a '
            "Topic of the app, or Topic.from_topic_arn with the ARN written out or from Fn.import_value",
        ),
    ],
    ids=["a table name", "a table ARN", "a topic ARN"],
)
def test_a_table_or_topic_from_a_cfn_parameter_is_refused_its_value_would_skip_the_template_s_checks(
    props: Callable[[Stack], dict[str, Any]], refused: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(f"ShareWorker 'ShareWorker': {refused}")):
        synthesize(lambda stack: ShareWorker(stack, "ShareWorker", **props(stack)))


def test_a_table_and_topic_imported_from_other_stacks_are_used_as_the_deploy_gives_them() -> None:
    """``Fn::ImportValue``, and resources of another stack of the app (CDK exports and imports them),
    are deploy-time values that name no parameter: nothing decided at synth time depends on them."""
    app = App(context=NO_BUNDLING)
    data = Stack(app, "data", env=SOME_ENVIRONMENT)
    stack = Stack(app, STACK_NAME, env=SOME_ENVIRONMENT)
    CfnParameter(stack, "Unrelated", default="")
    ShareWorker(stack, "ShareWorker", table=app_table(data), alarm_topic=sns.Topic(data, "Ops"))
    imported = Stack(app, "imported", env=SOME_ENVIRONMENT)
    ShareWorker(
        imported,
        "ShareWorker",
        table=dynamodb.Table.from_table_name(imported, "T", Fn.import_value("wardrobe-table")),
        alarm_topic=sns.Topic.from_topic_arn(imported, "Ops", Fn.import_value("ops-topic")),
    )

    for worker_stack in (stack, imported):
        resources = Template.from_stack(worker_stack).to_json()["Resources"]
        table_name = resources[FUNCTION_ID]["Properties"]["Environment"]["Variables"]["TABLE_NAME"]
        [action] = resources["DeadLetterQueueAlarm"]["Properties"]["AlarmActions"]
        assert list(table_name) == list(action) == ["Fn::ImportValue"]
        assert TABLE_ID not in resources


def test_a_stack_name_too_long_for_the_names_the_template_derives_from_it_is_refused() -> None:
    app = App(context=NO_BUNDLING)
    ShareWorker(Stack(app, "fits", stack_name="w" * 51), "ShareWorker")

    with pytest.raises(
        ValueError,
        match=f"ShareWorker 'ShareWorker': stack name '{'w' * 52}' has 52 characters, and the names the "
        "template derives from it allow 51: the FunctionName of ShareWorkerLambda",
    ):
        ShareWorker(Stack(app, "too-long", stack_name="w" * 52), "ShareWorker")


def test_a_nested_stack_is_refused_its_name_is_cloudformation_s_choice() -> None:
    parent = Stack(App(context=NO_BUNDLING), STACK_NAME)

    with pytest.raises(
        ValueError,
        match=r"ShareWorker 'ShareWorker': a nested stack's name is chosen by CloudFormation at deploy time "
        r"\(the parent's name, the nested stack's logical ID and a random suffix\), usually longer than the "
        r"51 characters the template's names allow: put the worker in a stack of its own",
    ):
        ShareWorker(NestedStack(parent, "Worker"), "ShareWorker")


def test_a_stack_holds_one_worker_and_the_second_is_refused_with_the_reason() -> None:
    def build(stack: Stack) -> ShareWorker:
        ShareWorker(stack, "First")
        return ShareWorker(stack, "Second")

    with pytest.raises(
        ValueError,
        match=r"ShareWorker 'Second': a stack holds one ShareWorker, and shop has shop/First already: the "
        r"worker is template.yaml included whole, whose logical IDs \(ShareWorkerLambda, ShareEventsQueue",
    ):
        synthesize(build)


@pytest.mark.parametrize(
    ("arn", "refused"),
    [
        (
            "arn:aws:dynamodb:us-east-1:999999999999:table/wardrobe-app",
            "account 999999999999, the stack in account 111111111111",
        ),
        (
            "arn:aws:dynamodb:eu-west-1:111111111111:table/wardrobe-app",
            "region eu-west-1, the stack in region us-east-1",
        ),
    ],
)
def test_a_table_of_another_account_or_region_is_refused(arn: str, refused: str) -> None:
    def build(stack: Stack) -> ShareWorker:
        return ShareWorker(stack, "ShareWorker", table=dynamodb.Table.from_table_arn(stack, "AppTable", arn))

    with pytest.raises(
        ValueError,
        match=f"ShareWorker 'ShareWorker': table wardrobe-app is in {refused}: the worker reaches its table "
        "by name",
    ):
        synthesize(build, SOME_ENVIRONMENT)


@pytest.mark.parametrize(
    ("env", "refused"),
    [
        (None, "account 999999999999, and the stack's account"),
        (Environment(account="999999999999"), "region eu-west-1, and the stack's region"),
    ],
    ids=["environment-agnostic", "account only"],
)
def test_a_table_arn_naming_an_account_or_region_the_stack_does_not_know_is_refused(
    env: Environment | None, refused: str
) -> None:
    """The ARN cannot be compared with what the stack only learns at deploy time; taken by name, the table
    would silently be the stack's account's and region's ``wardrobe-app``, if any."""
    arn = "arn:aws:dynamodb:eu-west-1:999999999999:table/wardrobe-app"

    with pytest.raises(
        ValueError,
        match=f"ShareWorker 'ShareWorker': table wardrobe-app is in {refused} is known at deploy time only: "
        r"the worker reaches its table by name .* give the stack an env \(its account and region\), or "
        r"import a table of the stack's own account and region with Table\.from_table_name",
    ):
        synthesize(
            lambda stack: ShareWorker(
                stack, "ShareWorker", table=dynamodb.Table.from_table_arn(stack, "AppTable", arn)
            ),
            env,
        )


def test_a_table_of_another_stack_in_another_region_is_refused() -> None:
    app = App(context=NO_BUNDLING)
    data = Stack(app, "data", env=Environment(account="111111111111", region="eu-west-1"))
    stack = Stack(app, STACK_NAME, env=SOME_ENVIRONMENT)

    with pytest.raises(ValueError, match=r"table .* is in region eu-west-1, the stack in region us-east-1"):
        ShareWorker(stack, "ShareWorker", table=app_table(data))


def test_a_table_imported_by_the_arn_of_the_stack_s_own_account_and_region_is_used_by_name() -> None:
    arn = "arn:aws:dynamodb:us-east-1:111111111111:table/wardrobe-app"
    synthesized = synthesize(
        lambda stack: ShareWorker(
            stack, "ShareWorker", table=dynamodb.Table.from_table_arn(stack, "AppTable", arn)
        ),
        SOME_ENVIRONMENT,
    )

    function = synthesized.document["Resources"][FUNCTION_ID]["Properties"]
    assert function["Environment"]["Variables"]["TABLE_NAME"] == "wardrobe-app"


@pytest.mark.parametrize("description", [None, "Wardrobe app: API, table and jobs"])
def test_the_app_s_stack_keeps_its_own_description(description: str | None) -> None:
    stack = Stack(App(context=NO_BUNDLING), STACK_NAME, description=description)
    ShareWorker(stack, "ShareWorker")

    assert Template.from_stack(stack).to_json().get("Description") == description
