"""CloudFormation offline, shared by the template and construct tests: SAM's transform, cfn-lint, resolving.

cfn-lint alone validates SAM resources only against its own SAM schema, which lets through values
such as ``MaximumConcurrency: 1`` in an SQS event. So templates are also transformed offline with
samtranslator and the resulting CloudFormation is linted, as CloudFormation would see it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

from cfnlint.api import lint
from samtranslator.translator.transform import transform

from local_runtime.template import FUNCTION_ID

CODE_URI_PLACEHOLDER = "s3://placeholder-bucket/share-worker.zip"


class NoManagedPolicies:
    """samtranslator's policy loader, offline: the template attaches no managed policy to look up."""

    def load(self) -> dict[str, str]:
        return {}


def sam_transformed(source: dict[str, Any]) -> dict[str, Any]:
    """``source`` after the SAM transform; a local ``CodeUri`` (``src/``) becomes a placeholder S3 URI.

    samtranslator needs a region (``AWS_DEFAULT_REGION``), as ``sam`` has one.
    """
    document = copy.deepcopy(source)
    function = document["Resources"][FUNCTION_ID]["Properties"]
    if isinstance(function["CodeUri"], str):
        function["CodeUri"] = CODE_URI_PLACEHOLDER
    transformed: dict[str, Any] = transform(document, {}, NoManagedPolicies())
    return transformed


def lint_findings(document: dict[str, Any]) -> list[str]:
    return [f"{match.rule.id} {match.message}" for match in lint(json.dumps(document))]


class EveryResourceByName(Mapping[str, str]):
    """``Stack.known`` for comparing templates: each resource reference resolves to its own name, or to
    the physical name given in ``names`` (a table's ``Ref`` is its ``TableName``)."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self.names = dict(names or {})

    def __getitem__(self, name: str) -> str:
        return self.names.get(name, f"<{name}>")

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0
