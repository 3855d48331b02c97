"""The ``ShareWorker``'s props as ``template.yaml``'s parameter values; what the template cannot use, refused.

The template's own constraints and rules are checked afterwards, on these values, by the local
runtime's reader of the template; what is refused here is what never reaches a parameter intact:

* a number that is not whole (``batch_size=20.7``, a window of 1.5 s): CloudFormation would take
  ``20.7`` for a ``Number`` parameter and Lambda refuse it at deploy time, and ``int()`` would have
  made it 20 without a word;
* a number that is a token (a ``CfnParameter``, a value of another stack): the construct decides the
  template's conditions and checks its rules at synth time, which needs the number;
* a table of another account or region, or of a known account or region in a stack whose own are
  known at deploy time only: ``ExistingTableName`` is a name, and the template builds the table's
  ARN (and the function finds the table) in the stack's own account and region.

A table or topic given as a token (a resource of the same app, another stack's, an ``Fn::ImportValue``)
is fine: only whether it is given decides anything at synth time. One that names a ``CfnParameter``
of the app's stack is not: its value could be empty or no name at all, and the conditions decided
here (does the stack create its table, do the alarms notify a topic) and ``ExistingTableName``'s
pattern would never see it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aws_cdk import Arn, ArnFormat, CfnParameter, Duration, Token
from aws_cdk import Stack as CdkStack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns

ParameterValue = str | int
REACHED_BY_NAME = (
    "the worker reaches its table by name (ExistingTableName) in the stack's own account and region"
)


@dataclass(frozen=True)
class AlarmThresholds:
    """When the worker's alarms fire (README, "Operator's runbook"); a field left out keeps the template's
    default. Counts are per minute."""

    backlog_age: Duration | None = None
    """``BacklogAgeAlarmSeconds``: the queue's oldest message has waited longer than this."""
    processing_errors: int | None = None
    """``ProcessingErrorsAlarmThreshold``: more ``ProcessingErrors`` than this a minute..."""
    processing_errors_minutes: int | None = None
    """``ProcessingErrorsAlarmMinutes``: ...in this many minutes of the window..."""
    processing_errors_window_minutes: int | None = None
    """``ProcessingErrorsAlarmWindowMinutes``: ...of this many minutes."""
    function_errors: int | None = None
    """``FunctionErrorsAlarmThreshold``: more invocations failed whole than this."""
    function_throttles: int | None = None
    """``FunctionThrottlesAlarmThreshold``: more throttled invocations than this."""


def parameter_values(
    stack: CdkStack,
    *,
    table: dynamodb.ITable | None,
    batch_size: float | None,
    max_batching_window: Duration | None,
    max_concurrency: float | None,
    max_receive_count: float | None,
    function_timeout: Duration | None,
    dedup_ttl_days: float | None,
    alarm_topic: sns.ITopic | None,
    alarm_thresholds: AlarmThresholds | None,
) -> dict[str, ParameterValue]:
    """The template parameters the props give (a prop left out gives none: the template's default)."""
    if table is not None:
        _refuse_another_environment(table, stack)
        _refuse_a_parameter(
            "table's name",
            table.table_name,
            stack,
            "checks ExistingTableName's pattern and decides whether the stack creates a table",
            'TABLE_NAME "" for the function and a role on table/',
            "the table itself: a Table of the app, or Table.from_table_name with the name written out or "
            "from Fn.import_value",
        )
    if alarm_topic is not None:
        _refuse_a_parameter(
            "alarm_topic's ARN",
            alarm_topic.topic_arn,
            stack,
            "decides whether the alarms notify a topic",
            'AlarmActions [""] for every alarm',
            "the topic itself: a Topic of the app, or Topic.from_topic_arn with the ARN written out or "
            "from Fn.import_value",
        )
    thresholds = alarm_thresholds or AlarmThresholds()
    given = {
        "BatchSize": _whole_number("batch_size", batch_size),
        "MaximumBatchingWindowInSeconds": _whole_seconds("max_batching_window", max_batching_window),
        "MaximumConcurrency": _whole_number("max_concurrency", max_concurrency),
        "MaxReceiveCount": _whole_number("max_receive_count", max_receive_count),
        "FunctionTimeout": _whole_seconds("function_timeout", function_timeout),
        "DedupTtlDays": _whole_number("dedup_ttl_days", dedup_ttl_days),
        "ExistingTableName": table.table_name if table else None,
        "AlarmTopicArn": alarm_topic.topic_arn if alarm_topic else None,
        "BacklogAgeAlarmSeconds": _whole_seconds("alarm_thresholds.backlog_age", thresholds.backlog_age),
        "ProcessingErrorsAlarmThreshold": _whole_number(
            "alarm_thresholds.processing_errors", thresholds.processing_errors
        ),
        "ProcessingErrorsAlarmMinutes": _whole_number(
            "alarm_thresholds.processing_errors_minutes", thresholds.processing_errors_minutes
        ),
        "ProcessingErrorsAlarmWindowMinutes": _whole_number(
            "alarm_thresholds.processing_errors_window_minutes", thresholds.processing_errors_window_minutes
        ),
        "FunctionErrorsAlarmThreshold": _whole_number(
            "alarm_thresholds.function_errors", thresholds.function_errors
        ),
        "FunctionThrottlesAlarmThreshold": _whole_number(
            "alarm_thresholds.function_throttles", thresholds.function_throttles
        ),
    }
    return {name: value for name, value in given.items() if value is not None}


def _whole_number(prop: str, value: float | None) -> int | None:
    if value is None:
        return None
    if Token.is_unresolved(value):
        raise ValueError(
            f"{prop} is a token (a value known at deploy time only): the construct checks the template's "
            "constraints and rules when it is created, so it needs the number itself; to choose it at "
            "deploy time, deploy template.yaml with SAM and its parameters"
        )
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(f"{prop} must be a whole number, got {value!r}")
    return int(value)


def _whole_seconds(prop: str, duration: Duration | None) -> int | None:
    if duration is None:
        return None
    seconds = duration.to_seconds(integral=False)
    if not Token.is_unresolved(seconds) and not float(seconds).is_integer():
        raise ValueError(f"{prop} must be a whole number of seconds, got {duration.to_human_string()}")
    return _whole_number(prop, seconds)


def _refuse_another_environment(table: dynamodb.ITable, stack: CdkStack) -> None:
    """The table's environment is its stack's (a table of another stack of the app), or the one its ARN
    names (``Table.from_table_arn`` keeps the importing stack's environment).

    A table whose account or region is known, in a stack whose own is a deploy-time value (a stack
    without ``env``), is refused too: nothing could tell at synth time that they are the same, and by
    name the worker would find whatever table of that name the deployed stack's account and region has.
    """
    places = [(table.env.account, table.env.region)]
    if not Token.is_unresolved(table.table_arn):
        arn = Arn.split(table.table_arn, ArnFormat.SLASH_RESOURCE_NAME)
        places.append((arn.account, arn.region))
    for account, region in places:
        for what, table_s, stack_s in (("account", account, stack.account), ("region", region, stack.region)):
            if Token.is_unresolved(table_s):
                continue
            if Token.is_unresolved(stack_s):
                raise ValueError(
                    f"table {table.table_name} is in {what} {table_s}, and the stack's {what} is known at "
                    f"deploy time only: {REACHED_BY_NAME}; give the stack an env (its account and region), "
                    "or import a table of the stack's own account and region with Table.from_table_name"
                )
            if table_s != stack_s:
                raise ValueError(
                    f"table {table.table_name} is in {what} {table_s}, the stack in {what} {stack_s}: "
                    f"{REACHED_BY_NAME}; deploy the worker where the table is"
                )


def _refuse_a_parameter(
    prop: str, value: str, stack: CdkStack, skipped: str, empty: str, instead: str
) -> None:
    """Refuses a value that refers to a ``CfnParameter`` of the stack, however deep in an intrinsic
    (``Table.from_table_arn`` of one cuts the name out of it): see the module docstring."""
    if not Token.is_unresolved(value):
        return
    parameters = {
        stack.resolve(node.logical_id) for node in stack.node.find_all() if isinstance(node, CfnParameter)
    }
    named = [name for name in _references(stack.resolve(value)) if name in parameters]
    if named:
        raise ValueError(
            f"{prop} is the stack's CfnParameter {named[0]}, a value known at deploy time only: the "
            f"construct {skipped} when it is created, and such a value skips that (an empty one would give "
            f"{empty}); pass {instead}; to choose it at deploy time, deploy template.yaml with SAM and its "
            "parameters"
        )


def _references(expression: Any) -> Iterator[str]:
    """The logical IDs every ``Ref`` of a resolved CloudFormation expression names."""
    if isinstance(expression, dict):
        if list(expression) == ["Ref"]:
            yield str(expression["Ref"])
        for member in expression.values():
            yield from _references(member)
    elif isinstance(expression, list):
        for member in expression:
            yield from _references(member)
