"""``template.yaml`` keeps the deployment contract of DESIGN.md, and its SAM parts survive the transform.

The template is also transformed offline with samtranslator and linted as CloudFormation would see it
(:mod:`tests.cloudformation`).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from local_runtime.stack.template import (
    DLQ_ID,
    FUNCTION_ID,
    QUEUE_ID,
    TABLE_ID,
    Stack,
    TemplateError,
    load_template,
)
from services.config import DEFAULT_DEADLINE_MARGIN_MS, MIN_DEDUP_TTL_DAYS
from services.outcomes import PROCESSING_ERRORS_METRIC
from tests.cloudformation import lint_findings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
APP_TABLE = "wardrobe-app"
APP_TABLE_ARN = f"arn:aws:dynamodb:us-east-1:123456789012:table/{APP_TABLE}"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def on_app_table(document: dict[str, Any]) -> Stack:
    """The document as CloudFormation applies it when ``ExistingTableName`` names the app's table."""
    overrides = {"ExistingTableName": APP_TABLE}
    return Stack(Stack(document, overrides=overrides).decided(), overrides=overrides)


def role_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    role = document["Resources"]["ShareWorkerRole"]["Properties"]
    return [statement for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]]


def properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return resource


def default(template: dict[str, Any], parameter: str) -> Any:
    return template["Parameters"][parameter]["Default"]


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


QUEUE_NAME = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [QUEUE_ID, "QueueName"]}}]
FUNCTION_NAME = [{"Name": "FunctionName", "Value": {"Ref": FUNCTION_ID}}]
RUNBOOK_ENTRY = re.compile(r'Runbook: README, "Operator\'s runbook", "([^"]+)"\.')


def test_transformed_template_passes_cfn_lint(template: dict[str, Any], sam_transform: Any) -> None:
    assert lint_findings(sam_transform(template)) == []


def test_on_the_app_table_nothing_creates_a_table_and_nothing_refers_to_one(
    template: dict[str, Any], sam_transform: Any
) -> None:
    applied = on_app_table(sam_transform(template)).template
    text = json.dumps(applied)

    assert [r["Type"] for r in applied["Resources"].values() if r["Type"].startswith("AWS::DynamoDB")] == []
    assert f'{{"Ref": "{TABLE_ID}"}}' not in text and f'["{TABLE_ID}", "Arn"]' not in text
    # Deciding the conditions leaves AlarmTopicArn, used only under HasAlarmTopic, unused (W2001).
    assert [finding for finding in lint_findings(applied) if not finding.startswith("W2001")] == []


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


def test_visibility_timeout_is_six_function_timeouts_plus_the_batching_window_for_every_allowed_pair(
    template: dict[str, Any],
) -> None:
    """AWS's recommendation with a batching window; the messages of a batch are in flight from the
    window's first receive on, so a visibility timeout without the window could end inside it."""
    timeouts = template["Parameters"]["FunctionTimeout"]
    windows = template["Parameters"]["MaximumBatchingWindowInSeconds"]
    lookup = template["Mappings"]["VisibilityTimeoutByTimeoutAndWindow"]

    assert properties(template, QUEUE_ID)["VisibilityTimeout"] == {
        "Fn::FindInMap": [
            "VisibilityTimeoutByTimeoutAndWindow",
            {"Ref": "FunctionTimeout"},
            {"Ref": "MaximumBatchingWindowInSeconds"},
        ]
    }
    assert properties(template, FUNCTION_ID)["Timeout"] == {"Ref": "FunctionTimeout"}
    assert [int(key) for key in lookup] == timeouts["AllowedValues"]
    assert timeouts["Default"] in timeouts["AllowedValues"] and windows["Default"] in windows["AllowedValues"]
    assert (min(windows["AllowedValues"]), max(windows["AllowedValues"])) == (0, 300)  # Lambda's range
    for timeout, row in lookup.items():
        assert [int(key) for key in row] == windows["AllowedValues"], f"timeout {timeout} s"
        for window, seconds in row.items():
            assert seconds == 6 * int(timeout) + int(window), f"timeout {timeout} s, window {window} s"


def test_alarm_fires_when_the_dlq_holds_a_message(template: dict[str, Any]) -> None:
    alarm = properties(template, "DeadLetterQueueAlarm")

    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [DLQ_ID, "QueueName"]}}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


@pytest.mark.parametrize(
    ("alarm_id", "metric", "statistic", "threshold", "periods"),
    [
        (
            "BacklogAgeAlarm",
            ("AWS/SQS", "ApproximateAgeOfOldestMessage", QUEUE_NAME),
            "Maximum",
            "BacklogAgeAlarmSeconds",
            1,
        ),
        (
            "FunctionErrorsAlarm",
            ("AWS/Lambda", "Errors", FUNCTION_NAME),
            "Sum",
            "FunctionErrorsAlarmThreshold",
            1,
        ),
        (
            "FunctionThrottlesAlarm",
            ("AWS/Lambda", "Throttles", FUNCTION_NAME),
            "Sum",
            "FunctionThrottlesAlarmThreshold",
            1,
        ),
    ],
)
def test_alarms_on_aws_metrics_take_their_threshold_from_a_parameter(
    template: dict[str, Any],
    alarm_id: str,
    metric: tuple[str, str, list[dict[str, Any]]],
    statistic: str,
    threshold: str,
    periods: int,
) -> None:
    alarm = properties(template, alarm_id)

    assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == metric
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == (statistic, 60, periods)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", {"Ref": threshold})


def test_by_default_a_message_failing_through_its_retries_does_not_page_the_backlog_alarm(
    template: dict[str, Any],
) -> None:
    """It waits MaxReceiveCount visibility timeouts before the DLQ takes it; the other alarms page for it."""
    visibility = Stack(template).decided()["Resources"][QUEUE_ID]["Properties"]["VisibilityTimeout"]

    retries_s = default(template, "MaxReceiveCount") * int(visibility)
    assert default(template, "BacklogAgeAlarmSeconds") > retries_s


def test_the_processing_errors_alarm_watches_the_metric_the_worker_emits_for_minutes_in_a_row(
    template: dict[str, Any],
) -> None:
    alarm = properties(template, "ProcessingErrorsAlarm")
    environment = properties(template, FUNCTION_ID)["Environment"]["Variables"]

    assert (alarm["Namespace"], alarm["MetricName"]) == (
        environment["POWERTOOLS_METRICS_NAMESPACE"],
        PROCESSING_ERRORS_METRIC,
    )
    assert alarm["Dimensions"] == [{"Name": "service", "Value": environment["POWERTOOLS_SERVICE_NAME"]}]
    assert (alarm["Statistic"], alarm["Period"]) == ("Sum", 60)
    assert alarm["Threshold"] == {"Ref": "ProcessingErrorsAlarmThreshold"}
    # M of N minutes, not M in a row: a failed record comes back once per visibility timeout (185 s).
    assert alarm["EvaluationPeriods"] == {"Ref": "ProcessingErrorsAlarmWindowMinutes"}
    assert alarm["DatapointsToAlarm"] == {"Ref": "ProcessingErrorsAlarmMinutes"}
    visibility = int(Stack(template).decided()["Resources"][QUEUE_ID]["Properties"]["VisibilityTimeout"])
    window_s = 60 * default(template, "ProcessingErrorsAlarmWindowMinutes")
    assert window_s // visibility >= default(template, "ProcessingErrorsAlarmMinutes") - 1


def test_every_alarm_notifies_the_topic_and_names_its_entry_in_the_runbook(template: dict[str, Any]) -> None:
    runbook = README.read_text().split("\n## Operator's runbook\n", 1)[1].split("\n## ", 1)[0]
    topic = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}

    for logical_id, alarm in alarms(template).items():
        assert alarm["AlarmActions"] == alarm["OKActions"] == topic, logical_id
        assert alarm["TreatMissingData"] == "notBreaching", logical_id
        [entry] = RUNBOOK_ENTRY.findall(" ".join(alarm["AlarmDescription"].split()))
        assert f"\n### {entry}\n" in runbook, logical_id
    assert len(alarms(template)) == 5


def test_alarm_thresholds_are_numbers_with_bounds_and_defaults_within_them(template: dict[str, Any]) -> None:
    thresholds = [
        value["Ref"]
        for alarm in alarms(template).values()
        for value in (alarm["Threshold"], alarm["EvaluationPeriods"])
        if isinstance(value, dict)
    ]

    assert len(thresholds) == 5
    for name in thresholds:
        declaration = template["Parameters"][name]
        assert declaration["Type"] == "Number", name
        assert declaration["MinValue"] <= declaration["Default"] <= declaration["MaxValue"], name


def test_function_runtime_code_tracing_and_powertools_environment(template: dict[str, Any]) -> None:
    function = properties(template, FUNCTION_ID)

    assert function["CodeUri"] == "src/"
    assert function["Handler"] == "handler.lambda_handler"
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["arm64"]
    assert function["Tracing"] == "Active"
    assert function["Environment"]["Variables"] == {
        "TABLE_NAME": {"Fn::If": ["CreatesTable", {"Ref": TABLE_ID}, {"Ref": "ExistingTableName"}]},
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
    assert template["Parameters"]["BatchSize"]["MaxValue"] == 10_000
    assert default(template, "MaximumBatchingWindowInSeconds") == 5
    assert default(template, "MaximumConcurrency") == 10
    assert default(template, "FunctionTimeout") == 30


def test_the_role_reads_and_writes_this_table_only_and_writes_inside_transactions_only(
    template: dict[str, Any], sam_transform: Any
) -> None:
    """Which actions exactly is held by ``tests/integration/test_role_matches_calls.py``, against the calls
    the handler really makes; here, where they may be used."""
    transformed = sam_transform(template)
    dynamodb = [s for s in role_statements(transformed) if "dynamodb:" in json.dumps(s["Action"])]

    own_table_or_app_s = {
        "Fn::If": [
            "CreatesTable",
            {"Fn::GetAtt": [TABLE_ID, "Arn"]},
            {
                "Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}"
                ":table/${ExistingTableName}"
            },
        ]
    }
    assert [statement["Resource"] for statement in dynamodb] == [own_table_or_app_s] * 3
    writes = [statement for statement in dynamodb if statement["Action"] != "dynamodb:BatchGetItem"]
    assert [statement["Condition"]["ForAnyValue:StringEquals"] for statement in writes] == [
        {"dynamodb:EnclosingOperation": ["TransactWriteItems"]}
    ] * 2
    role = transformed["Resources"]["ShareWorkerRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    function = transformed["Resources"][FUNCTION_ID]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["ShareWorkerRole", "Arn"]}


def test_the_role_s_other_statements_hold_what_the_event_source_logs_and_tracing_need_and_no_more(
    template: dict[str, Any],
) -> None:
    """The event source mapping polls with the function's role (AWS's AWSLambdaSQSQueueExecutionRole:
    these three actions); the function writes its own log group and X-Ray segments, nothing else."""
    others = {
        statement["Sid"]: (sorted(statement["Action"]), statement["Resource"])
        for statement in role_statements(template)
        if "dynamodb:" not in json.dumps(statement["Action"])
    }

    assert others == {
        "ShareEventsQueue": (
            ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            {"Fn::GetAtt": [QUEUE_ID, "Arn"]},
        ),
        "OwnLogGroup": (
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            {"Fn::GetAtt": ["ShareWorkerLogGroup", "Arn"]},
        ),
        "XRayTracing": (["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*"),
    }


def test_on_the_app_table_the_function_and_its_role_name_that_table_only(
    template: dict[str, Any], sam_transform: Any
) -> None:
    stack = on_app_table(sam_transform(template))

    resources = {
        json.dumps(stack.resolve(statement["Resource"]))
        for statement in role_statements(stack.template)
        if "dynamodb:" in json.dumps(statement["Action"])
    }

    assert resources == {json.dumps(APP_TABLE_ARN)}
    assert stack.function().environment["TABLE_NAME"] == APP_TABLE


def test_a_batch_above_ten_without_a_batching_window_is_refused_with_the_rule_s_reason(
    template: dict[str, Any],
) -> None:
    Stack(template, overrides={"BatchSize": 10_000, "MaximumBatchingWindowInSeconds": 1}).validate()
    Stack(template, overrides={"BatchSize": 10, "MaximumBatchingWindowInSeconds": 0}).validate()

    with pytest.raises(TemplateError, match="BatchSize above 10 needs MaximumBatchingWindowInSeconds of at"):
        Stack(template, overrides={"BatchSize": 11, "MaximumBatchingWindowInSeconds": 0}).validate()


def test_outputs_name_the_queue_dlq_and_table_and_export_the_queues_for_other_stacks(
    template: dict[str, Any],
) -> None:
    outputs = template["Outputs"]
    values = {name: output["Value"] for name, output in outputs.items()}
    exports = {name: output["Export"]["Name"] for name, output in outputs.items() if "Export" in output}

    assert values["ShareEventsQueueUrl"] == {"Ref": QUEUE_ID}
    assert values["ShareEventsQueueArn"] == {"Fn::GetAtt": [QUEUE_ID, "Arn"]}
    assert values["ShareEventsDeadLetterQueueUrl"] == {"Ref": DLQ_ID}
    assert values["ShareEventsDeadLetterQueueArn"] == {"Fn::GetAtt": [DLQ_ID, "Arn"]}
    assert values["ShareTableName"] == {
        "Fn::If": ["CreatesTable", {"Ref": TABLE_ID}, {"Ref": "ExistingTableName"}]
    }
    assert exports == {
        name: {"Fn::Sub": f"${{AWS::StackName}}-{name}"}
        for name in (
            "ShareEventsQueueUrl",
            "ShareEventsQueueArn",
            "ShareEventsDeadLetterQueueUrl",
            "ShareEventsDeadLetterQueueArn",
        )
    }


def test_every_suppressed_scanner_finding_carries_its_reason_and_is_in_the_readme(
    template: dict[str, Any],
) -> None:
    """``make lint`` runs checkov, which honours these; the README's table explains each one."""
    scan_section = README.read_text().split("\n### Template security scan\n", 1)[1].split("\n## ", 1)[0]
    suppressed = [
        (logical_id, skip)
        for logical_id, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]

    assert len(suppressed) == 8
    for logical_id, skip in suppressed:
        assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), logical_id
        assert len(skip["comment"]) > 40, (logical_id, skip["id"])
        row = next(line for line in scan_section.splitlines() if line.startswith(f"| `{skip['id']}`"))
        assert f"`{logical_id}`" in row, (logical_id, skip["id"])
