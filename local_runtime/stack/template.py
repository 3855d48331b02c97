"""``template.yaml`` read by the local runtime: the one place its table, queues and function settings live.

The template is parsed with cfn-lint's CloudFormation YAML loader (it knows the short intrinsic tags
such as ``!Ref`` and ``!GetAtt``) and instantiated for one stack name, the way CloudFormation would:
parameters take their defaults unless overridden, are checked against their constraints and the
template's ``Rules``, conditions are decided and intrinsic functions are resolved.

Only the intrinsics that the template and the CDK's synthesis of it use are resolved here (``Ref``,
``Fn::GetAtt``, ``Fn::FindInMap``, ``Fn::Sub`` in both forms, ``Fn::If``; in conditions and rules
``Fn::Equals``, ``Fn::Not``,
``Fn::Contains`` and ``Condition``); anything else raises :class:`TemplateError` naming it.
samtranslator's resolver would inline parameters but leaves ``Fn::GetAtt``, resource references and
conditions to the caller, which is most of the work here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from local_runtime.stack.name_limits import NAME_LIMITS
from services.config import DEFAULT_DEADLINE_MARGIN_MS
from services.deadline import REPORT_MS_PER_RECORD

MIN_WRITE_TIME_MS = 1000
"""The least time for a batch's writes that a deployment is allowed to leave."""
PROCESSING_ERRORS_ALARM_MINUTES = ("ProcessingErrorsAlarmMinutes", "ProcessingErrorsAlarmWindowMinutes")

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"
DEFAULT_STACK_NAME = "share-worker-local"

TABLE_ID = "ShareTable"
QUEUE_ID = "ShareEventsQueue"
DLQ_ID = "ShareEventsDeadLetterQueue"
FUNCTION_ID = "ShareWorkerLambda"
ROLE_ID = "ShareWorkerRole"
EVENT_SOURCE_ID = "ShareEvents"

_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]+)\}")
"""A variable of ``Fn::Sub``: ``${Name}``, or ``${!Name}``, which stands for the text ``${Name}``."""


class _NoValue:
    """What ``Ref: AWS::NoValue`` resolves to: the property or list member it stands for is left out."""


NO_VALUE = _NoValue()


class TemplateError(Exception):
    """The template cannot be read or uses something the local runtime cannot resolve."""


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain dicts, lists and scalars (the loader's own node types do not pickle)."""
    try:
        template = json.loads(json.dumps(cfn_yaml.load(str(path))))
    except (OSError, ValueError) as error:
        raise TemplateError(f"cannot read {path}: {error}") from error
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return template


@dataclass(frozen=True)
class EventSource:
    """The SQS event source mapping of the function."""

    batch_size: int
    batching_window_s: int
    maximum_concurrency: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class Function:
    name: str
    handler: str
    timeout_s: int
    memory_mb: int
    environment: dict[str, str]


@dataclass(frozen=True)
class LongestStackName:
    """The most characters a stack name may have, and the resource name that sets it."""

    characters: int
    logical_id: str
    name_property: str
    limit: int


@dataclass(frozen=True)
class Stack:
    """The template instantiated for one stack name, with optional parameter overrides.

    ``known`` holds what only exists once resources do: ``"LogicalId"`` for a ``Ref`` to a resource
    (a queue URL) and ``"LogicalId.Attribute"`` for a ``Fn::GetAtt`` (a queue ARN).
    """

    template: dict[str, Any] = field(default_factory=load_template, repr=False)
    name: str = DEFAULT_STACK_NAME
    region: str = "us-east-1"
    account_id: str = "123456789012"
    overrides: Mapping[str, str | int] = field(default_factory=dict)
    known: Mapping[str, str] = field(default_factory=dict)

    def with_known(self, values: Mapping[str, str]) -> Stack:
        return replace(self, known={**self.known, **values})

    def resource(self, logical_id: str) -> dict[str, Any]:
        try:
            resource: dict[str, Any] = self.template["Resources"][logical_id]
        except KeyError:
            raise TemplateError(f"template has no resource {logical_id}") from None
        return resource

    def properties(self, logical_id: str, *names: str) -> dict[str, Any]:
        """The resource's properties (only ``names``, if given) with every intrinsic function resolved."""
        properties: dict[str, Any] = self.resource(logical_id).get("Properties", {})
        wanted = {name: value for name, value in properties.items() if not names or name in names}
        resolved: dict[str, Any] = self.resolve(wanted)
        return resolved

    def parameter(self, name: str) -> str | int:
        """The override, else the default; a ``Number`` parameter comes back as an ``int``."""
        value = self._given(name)
        if self._declaration(name).get("Type") == "Number":
            try:
                return int(value)
            except ValueError:
                raise TemplateError(f"parameter {name} must be a whole number, got {value!r}") from None
        return str(value)

    def parameter_names(self) -> list[str]:
        return list(self.template.get("Parameters", {}))

    def check_parameter(self, name: str) -> None:
        """Refuses the parameter's value if it breaks the parameter's own constraints (``MinValue``,
        ``MaxValue``, ``AllowedValues``, ``AllowedPattern``); the ``Rules`` that relate parameters are
        :meth:`validate`'s."""
        _check_constraints(name, self._declaration(name), self.parameter(name), _text(self._given(name)))

    def _declaration(self, name: str) -> dict[str, Any]:
        declaration: dict[str, Any] | None = self.template.get("Parameters", {}).get(name)
        if declaration is None:
            raise TemplateError(f"template has no parameter {name}")
        return declaration

    def _given(self, name: str) -> str | int:
        """The override, else the default, as given: CloudFormation checks ``AllowedValues`` on this text."""
        value: str | int | None = self.overrides.get(name, self._declaration(name).get("Default"))
        if value is None:
            raise TemplateError(f"parameter {name} has no default and no value was given")
        return value

    def event_source(self) -> EventSource:
        event = self.resource(FUNCTION_ID)["Properties"]["Events"][EVENT_SOURCE_ID]
        properties = self.resolve(
            {name: value for name, value in event["Properties"].items() if name != "Queue"}
        )
        return EventSource(
            batch_size=int(properties.get("BatchSize", 10)),
            batching_window_s=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
            maximum_concurrency=int(properties.get("ScalingConfig", {}).get("MaximumConcurrency", 1000)),
            report_batch_item_failures="ReportBatchItemFailures"
            in properties.get("FunctionResponseTypes", []),
        )

    def function(self) -> Function:
        properties = self.properties(
            FUNCTION_ID, "FunctionName", "Handler", "Timeout", "MemorySize", "Environment"
        )
        variables = properties.get("Environment", {}).get("Variables", {})
        return Function(
            name=str(properties.get("FunctionName", FUNCTION_ID)),
            handler=str(properties["Handler"]),
            timeout_s=int(properties.get("Timeout", 3)),
            memory_mb=int(properties.get("MemorySize", 128)),
            environment={name: str(value) for name, value in variables.items()},
        )

    def table_name(self) -> str:
        """The table the function is given (``TABLE_NAME``): its own, or the app's ``ExistingTableName``."""
        return self.function().environment["TABLE_NAME"]

    def creates(self, logical_id: str) -> bool:
        """Whether CloudFormation would create the resource: it has no ``Condition``, or a true one."""
        condition = self.resource(logical_id).get("Condition")
        return condition is None or self.condition(str(condition))

    def condition(self, name: str) -> bool:
        try:
            expression = self.template["Conditions"][name]
        except KeyError:
            raise TemplateError(f"template has no condition {name}") from None
        return self._holds(expression)

    def validate(self) -> None:
        """Refuses what CloudFormation would refuse before creating anything: a parameter it does not
        declare, a value outside its constraints, a failed assertion of the ``Rules`` section; and a
        stack name that would make a resource's name too long, which CloudFormation finds out only
        when that resource fails and the stack rolls back."""
        declared = self.template.get("Parameters", {})
        for name in self.overrides:
            if name not in declared:
                raise TemplateError(f"template has no parameter {name}")
        for name in declared:
            self.check_parameter(name)
        for name, rule in self.template.get("Rules", {}).items():
            if "RuleCondition" in rule and not self._holds(rule["RuleCondition"]):
                continue
            for assertion in rule.get("Assertions", []):
                if not self._holds(assertion["Assert"]):
                    raise TemplateError(f"rule {name}: {assertion.get('AssertDescription', 'not met')}")
        self._check_time_to_write()
        minutes, window = (self.parameter(name) for name in PROCESSING_ERRORS_ALARM_MINUTES)
        if int(minutes) > int(window):
            raise TemplateError(
                f"ProcessingErrorsAlarmMinutes {minutes} is more than ProcessingErrorsAlarmWindowMinutes "
                f"{window}: the minutes are counted in the window (CloudWatch refuses DatapointsToAlarm "
                "above EvaluationPeriods)"
            )
        longest = self.longest_stack_name()
        if longest is not None and len(self.name) > longest.characters:
            derived = str(self.properties(longest.logical_id, longest.name_property)[longest.name_property])
            raise TemplateError(
                f"stack name {self.name!r} has {len(self.name)} characters, and the names the template "
                f"derives from it allow {longest.characters}: the {longest.name_property} of "
                f"{longest.logical_id}, {derived!r}, would have {len(derived)}, and AWS allows "
                f"{longest.limit}"
            )

    def _check_time_to_write(self) -> None:
        """Refuses a batch so big that the function's timeout leaves it no time to write: the worker
        keeps its margin plus 0.5 ms a record back from every invocation (README, "Time budget").
        CloudFormation cannot do this arithmetic; the worker says it in an error line at run time."""
        batch_size, timeout_s = self.parameter("BatchSize"), self.parameter("FunctionTimeout")
        kept_back_ms = DEFAULT_DEADLINE_MARGIN_MS + REPORT_MS_PER_RECORD * int(batch_size)
        if int(timeout_s) * 1000 - kept_back_ms < MIN_WRITE_TIME_MS:
            raise TemplateError(
                f"BatchSize {batch_size} with FunctionTimeout {timeout_s} leaves less than "
                f"{MIN_WRITE_TIME_MS} ms to write: each invocation keeps {kept_back_ms:.0f} ms back "
                f"({DEFAULT_DEADLINE_MARGIN_MS} ms of margin and {REPORT_MS_PER_RECORD} ms a record); "
                "lower BatchSize or raise FunctionTimeout"
            )

    def longest_stack_name(self) -> LongestStackName | None:
        """How long the stack's name may be for every name the template derives from it to stay within
        AWS's limit (:data:`~local_runtime.stack.name_limits.NAME_LIMITS`), read from the template's name
        patterns; ``None`` if no name derives from it."""
        found = []
        for logical_id, resource in self.template["Resources"].items():
            name_property, limit = NAME_LIMITS.get(resource.get("Type", ""), ("", 0))
            if name_property not in resource.get("Properties", {}) or not self.creates(logical_id):
                continue
            fixed, one_more = (
                len(str(replace(self, name=name).properties(logical_id, name_property)[name_property]))
                for name in ("", "x")
            )
            if one_more > fixed:
                characters = (limit - fixed) // (one_more - fixed)
                found.append(LongestStackName(characters, logical_id, name_property, limit))
        return min(found, key=lambda longest: longest.characters, default=None)

    def decided(self) -> dict[str, Any]:
        """The template as CloudFormation would apply it for these parameter values, the other intrinsics
        left as they are: resources and outputs whose condition is false left out, each ``Fn::If``
        replaced by its branch and each ``Fn::FindInMap`` by the value it looks up; no ``Conditions``,
        ``Rules`` or ``Mappings`` (check the rules with :meth:`validate`).

        For a deployer that knows the values before CloudFormation does: a condition may name
        parameters only, so a value that is another resource of the deploying app (a table, a topic)
        cannot reach one. A lookup is decided too because the deployer's values are typed (the number
        30) where CloudFormation's are text ("30"): left to it, the lookup would get an integer key.
        """
        decided = {
            section: self._decide(content)
            for section, content in self.template.items()
            if section not in {"Conditions", "Rules", "Mappings", "Resources", "Outputs"}
        }
        for section in ("Resources", "Outputs"):
            decided[section] = {
                logical_id: self._decide({key: value for key, value in entry.items() if key != "Condition"})
                for logical_id, entry in self.template.get(section, {}).items()
                if "Condition" not in entry or self.condition(str(entry["Condition"]))
            }
        return decided

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [member for member in map(self.resolve, value) if member is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(name, argument)] = value.items()
            if name == "Ref":
                return NO_VALUE if argument == "AWS::NoValue" else self._ref(str(argument))
            if name == "Fn::GetAtt":
                logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
                return self._known(f"{logical_id}.{attribute}")
            if name == "Fn::FindInMap":
                return self._find_in_map(*(self.resolve(part) for part in argument))
            if name == "Fn::Sub":
                return self._sub(argument)
            if name == "Fn::If":
                condition, if_true, if_false = argument
                return self.resolve(if_true if self.condition(condition) else if_false)
            if name.startswith("Fn::") or name == "Condition":
                raise TemplateError(f"{name} is not supported by the local runtime")
        resolved = {key: self.resolve(member) for key, member in value.items()}
        return {key: member for key, member in resolved.items() if member is not NO_VALUE}

    def _holds(self, expression: Any) -> bool:
        """The truth of a condition or rule expression; CloudFormation compares the values as text."""
        [(name, argument)] = expression.items()
        if name == "Fn::Equals":
            left, right = (_text(self.resolve(part)) for part in argument)
            return left == right
        if name == "Fn::Not":
            return not self._holds(argument[0])
        if name == "Fn::Contains":
            members, candidate = argument
            return _text(self.resolve(candidate)) in {_text(member) for member in self.resolve(members)}
        if name == "Condition":
            return self.condition(str(argument))
        raise TemplateError(f"{name} is not supported in conditions and rules by the local runtime")

    def _decide(self, value: Any) -> Any:
        if isinstance(value, list):
            return [member for member in map(self._decide, value) if member is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if value == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        if list(value) == ["Fn::If"]:
            condition, if_true, if_false = value["Fn::If"]
            return self._decide(if_true if self.condition(condition) else if_false)
        if list(value) == ["Fn::FindInMap"]:
            return self.resolve(value)
        decided = {key: self._decide(member) for key, member in value.items()}
        return {key: member for key, member in decided.items() if member is not NO_VALUE}

    def _ref(self, name: str) -> str | int:
        pseudo = {
            "AWS::StackName": self.name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        if name == TABLE_ID and name not in self.known:
            return str(self.properties(TABLE_ID, "TableName")["TableName"])
        return self._known(name)

    def _sub(self, argument: Any) -> str:
        """``Fn::Sub``: a string, or a string and a map of variables (which the CDK writes when a value of
        the app fills one); a variable not in the map is a parameter, a pseudo parameter, a resource's
        ``Ref`` or, with a dot, its attribute."""
        if isinstance(argument, str):
            text, values = argument, {}
        elif (
            isinstance(argument, list)
            and len(argument) == 2
            and isinstance(argument[0], str)
            and isinstance(argument[1], dict)
        ):
            text, values = argument[0], self.resolve(argument[1])
        else:
            raise TemplateError(
                f"Fn::Sub takes a string, or a string and a map of variables; got {argument!r}"
            )

        def substitute(match: re.Match[str]) -> str:
            escaped, name = match.groups()
            if escaped:
                return f"${{{name}}}"
            if name in values:
                return str(values[name])
            return str(self._known(name) if "." in name else self._ref(name))

        return _SUB_VARIABLE.sub(substitute, text)

    def _known(self, name: str) -> str:
        if name not in self.known:
            raise TemplateError(f"{name} is only known once the resource exists; provision the stack first")
        return self.known[name]

    def _find_in_map(self, map_name: Any, top_key: Any, second_key: Any) -> Any:
        try:
            return self.template["Mappings"][str(map_name)][str(top_key)][str(second_key)]
        except KeyError:
            raise TemplateError(f"Fn::FindInMap: no {map_name}/{top_key}/{second_key} in Mappings") from None


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _check_constraints(name: str, declaration: Mapping[str, Any], value: str | int, text: str) -> None:
    """``MinValue``/``MaxValue`` on the number, ``AllowedValues`` and ``AllowedPattern`` on the ``text``
    given, as CloudFormation checks them: ``05`` is not one of ``0, 5, 10``, though the number 5 is."""
    if "MinValue" in declaration and int(value) < declaration["MinValue"]:
        raise TemplateError(f"parameter {name} must be at least {declaration['MinValue']}, got {value}")
    if "MaxValue" in declaration and int(value) > declaration["MaxValue"]:
        raise TemplateError(f"parameter {name} must be at most {declaration['MaxValue']}, got {value}")
    allowed = [_text(member) for member in declaration.get("AllowedValues", [])]
    if allowed and text not in allowed:
        why = f": {declaration['ConstraintDescription']}" if "ConstraintDescription" in declaration else ""
        raise TemplateError(f"parameter {name} must be one of {', '.join(allowed)}, got {text}{why}")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, text):
        hint = declaration.get("ConstraintDescription", f"the pattern {pattern}")
        raise TemplateError(f"parameter {name} must be {hint}, got {text!r}")
