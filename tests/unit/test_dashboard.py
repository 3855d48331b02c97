"""The dashboard in ``template.yaml`` shows every metric the worker emits, as it emits them, and nothing else.

The metric names come from the code (:mod:`services.outcomes` and Powertools' ``ColdStart``), their
dimensions from the EMF that Powertools writes when the handler runs; the body must be dashboard JSON
once CloudFormation has substituted its variables, in both table modes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_runtime.stack.template import DLQ_ID, FUNCTION_ID, QUEUE_ID, Stack, load_template
from services import outcomes
from services.outcomes import Outcome

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_ID = "ShareWorkerDashboard"
STACK_NAME = "shop"
APP_TABLE = "wardrobe-app"
GRID_COLUMNS = 24
PSEUDO_PARAMETERS = {"AWS::AccountId", "AWS::Partition", "AWS::Region", "AWS::StackName", "AWS::URLSuffix"}
SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
METRIC_OPTIONS = {"label", "stat", "yAxis", "period", "color", "visible", "id"}
COLD_START = "ColdStart"
"""Powertools' metric of ``log_metrics(capture_cold_start_metric=True)``, in an EMF blob of its own."""

EMF_PROBE = """
import sys, handler
from testkit.synthetic_sqs import sqs_event, sqs_record
from services.lambda_context import LocalLambdaContext
handler.lambda_handler(sqs_event(sqs_record("{}")), LocalLambdaContext(function_name=sys.argv[1]))
"""
"""A cold invocation of one invalid record: ColdStart, a per-record and the per-batch metrics; no AWS call."""


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def emitted_metric_names() -> set[str]:
    """Every metric the code can emit: the outcomes, the ``*_METRIC`` constants, Powertools' ColdStart."""
    constants = {value for name, value in vars(outcomes).items() if name.endswith("_METRIC")}
    return {outcome.metric_name for outcome in Outcome} | constants | {COLD_START}


def body_and_variables(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    text, variables = template["Resources"][DASHBOARD_ID]["Properties"]["DashboardBody"]["Fn::Sub"]
    return text, variables


def instantiated(template: dict[str, Any], overrides: dict[str, str]) -> Stack:
    """The stack with the names CloudFormation would give the resources the dashboard names."""
    stack = Stack(template, STACK_NAME, overrides=overrides)
    alarms = [logical_id for logical_id, resource in template["Resources"].items() if is_alarm(resource)]
    names = {
        FUNCTION_ID: stack.function().name,
        **{
            f"{queue}.QueueName": str(stack.properties(queue, "QueueName")["QueueName"])
            for queue in (QUEUE_ID, DLQ_ID)
        },
        **{f"{alarm}.Arn": alarm_arn(stack, alarm) for alarm in alarms},
    }
    return stack.with_known(names)


def is_alarm(resource: dict[str, Any]) -> bool:
    return bool(resource["Type"] == "AWS::CloudWatch::Alarm")


def alarm_arn(stack: Stack, logical_id: str) -> str:
    name = stack.properties(logical_id, "AlarmName")["AlarmName"]
    return f"arn:aws:cloudwatch:{stack.region}:{stack.account_id}:alarm:{name}"


def dashboard(stack: Stack) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(stack.properties(DASHBOARD_ID, "DashboardBody")["DashboardBody"])
    return body


def metric_lines(body: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Namespace, metric name and dimensions of every metric on the dashboard."""
    for widget in body["widgets"]:
        for line in widget["properties"].get("metrics", []):
            fields = line[:-1] if isinstance(line[-1], dict) else line
            namespace, name, *dimensions = fields
            yield namespace, name, dict(zip(dimensions[::2], dimensions[1::2], strict=True))


def emitted_dimensions(function_name: str, environment: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each metric of a cold invocation with the dimensions (names and values) of its EMF blob."""
    result = subprocess.run(
        [sys.executable, "-c", EMF_PROBE, function_name],
        cwd=ROOT,
        env={
            **{name: value for name, value in os.environ.items() if not name.startswith("POWERTOOLS_")},
            **environment,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing may be called; if it were, nothing answers
        },
        capture_output=True,
        text=True,
        check=True,
    )
    dimensions: dict[str, dict[str, str]] = {}
    blobs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"_aws"')]
    for blob in blobs:
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            [keys] = directive["Dimensions"]
            for metric in directive["Metrics"]:
                dimensions[metric["Name"]] = {key: blob[key] for key in keys}
    return dimensions


def test_every_metric_the_code_emits_is_on_the_dashboard_and_no_other_of_its_namespace(
    template: dict[str, Any],
) -> None:
    stack = instantiated(template, {})
    namespace = stack.function().environment["POWERTOOLS_METRICS_NAMESPACE"]

    on_dashboard = {name for space, name, _ in metric_lines(dashboard(stack)) if space == namespace}

    assert on_dashboard == emitted_metric_names()


def test_the_worker_s_metrics_are_queried_with_the_dimensions_powertools_emits(
    template: dict[str, Any],
) -> None:
    stack = instantiated(template, {})
    function = stack.function()
    emitted = emitted_dimensions(function.name, function.environment)
    per_record = emitted[outcomes.VALIDATION_ERRORS_METRIC]

    assert emitted[COLD_START] == {"function_name": function.name, "service": "ShareWorker"}
    assert {name: dims for name, dims in emitted.items() if name != COLD_START} == dict.fromkeys(
        set(emitted) - {COLD_START}, per_record
    )
    for namespace, name, dimensions in metric_lines(dashboard(stack)):
        if namespace == function.environment["POWERTOOLS_METRICS_NAMESPACE"]:
            assert dimensions == emitted.get(name, per_record), name


def test_every_sub_variable_is_a_parameter_resource_pseudo_parameter_or_of_the_sub_map(
    template: dict[str, Any],
) -> None:
    text, variables = body_and_variables(template)
    resources, parameters = template["Resources"], template["Parameters"]

    unknown = [
        name
        for name in SUB_VARIABLE.findall(text)
        if name not in variables
        and name not in parameters
        and name not in PSEUDO_PARAMETERS
        and name.split(".", 1)[0] not in resources
    ]

    assert unknown == []
    assert variables == {
        "TableName": {"Fn::If": ["CreatesTable", {"Ref": "ShareTable"}, {"Ref": "ExistingTableName"}]}
    }


@pytest.mark.parametrize(
    "overrides", [{}, {"ExistingTableName": APP_TABLE}], ids=["own table", "app's table"]
)
def test_the_body_is_dashboard_json_on_the_worker_s_own_resources(
    template: dict[str, Any], overrides: dict[str, str]
) -> None:
    stack = instantiated(template, overrides)

    body = dashboard(stack)

    assert stack.properties(DASHBOARD_ID, "DashboardName") == {"DashboardName": f"{STACK_NAME}-share-worker"}
    tables = {dims["TableName"] for space, _, dims in metric_lines(body) if space == "AWS/DynamoDB"}
    functions = {dims["FunctionName"] for space, _, dims in metric_lines(body) if space == "AWS/Lambda"}
    queues = {dims["QueueName"] for space, _, dims in metric_lines(body) if space == "AWS/SQS"}
    assert tables == {stack.table_name()}
    assert functions == {stack.function().name}
    assert queues == {f"{STACK_NAME}-share-events", f"{STACK_NAME}-share-events-dlq"}


def test_widgets_have_their_fields_and_a_place_of_their_own_on_the_grid(template: dict[str, Any]) -> None:
    stack = instantiated(template, {})
    taken: set[tuple[int, int]] = set()

    for widget in dashboard(stack)["widgets"]:
        assert {"type", "x", "y", "width", "height", "properties"} <= set(widget)
        assert widget["properties"]["title"]
        assert widget["x"] + widget["width"] <= GRID_COLUMNS
        cells = {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not cells & taken, widget["properties"]["title"]
        taken |= cells


def test_metric_widgets_are_well_formed(template: dict[str, Any]) -> None:
    stack = instantiated(template, {})
    widgets = [widget for widget in dashboard(stack)["widgets"] if widget["type"] == "metric"]

    for widget in widgets:
        properties = widget["properties"]
        assert properties["region"] == stack.region
        assert properties["view"] == "timeSeries"
        assert properties["stat"] and properties["period"] == 60
        for line in properties["metrics"]:
            fields, options = (line[:-1], line[-1]) if isinstance(line[-1], dict) else (line, {})
            assert len(fields) >= 2 and len(fields) % 2 == 0, line
            assert all(isinstance(field, str) and field for field in fields), line
            assert set(options) <= METRIC_OPTIONS, line
        for annotation in properties.get("annotations", {}).get("horizontal", []):
            assert isinstance(annotation["value"], int | float) and annotation["label"]


def test_the_timeout_line_is_the_function_timeout_in_milliseconds(template: dict[str, Any]) -> None:
    stack = instantiated(template, {"FunctionTimeout": "45"})

    lines = [
        annotation["value"]
        for widget in dashboard(stack)["widgets"]
        for annotation in widget["properties"].get("annotations", {}).get("horizontal", [])
        if annotation["label"] == "timeout"
    ]

    assert lines == [45_000]


def test_the_alarm_widget_shows_every_alarm_of_the_template(template: dict[str, Any]) -> None:
    stack = instantiated(template, {})
    alarms = [logical_id for logical_id, resource in template["Resources"].items() if is_alarm(resource)]

    [widget] = [widget for widget in dashboard(stack)["widgets"] if widget["type"] == "alarm"]

    assert sorted(widget["properties"]["alarms"]) == sorted(alarm_arn(stack, alarm) for alarm in alarms)


def test_the_readme_says_what_each_widget_answers(template: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n### Dashboard\n", 1)[1].split("\n## ", 1)[0]

    titles = [widget["properties"]["title"] for widget in dashboard(instantiated(template, {}))["widgets"]]

    assert [title for title in titles if title not in section] == []
