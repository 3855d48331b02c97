"""CloudFormation offline, shared by the template and construct tests: SAM's transform, cfn-lint, resolving.

cfn-lint alone validates SAM resources only against its own SAM schema, which lets through values
such as ``MaximumConcurrency: 1`` in an SQS event. So templates are also transformed offline with
samtranslator and the resulting CloudFormation is linted, as CloudFormation would see it.

``python -m tests.cloudformation OUT`` writes ``template.yaml`` after the transform to ``OUT``, for the
security scan of ``make lint``.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from cfnlint.api import lint
from samtranslator.translator.transform import transform

from local_runtime.stack.template import FUNCTION_ID, load_template

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


def write_transformed(out: Path) -> None:
    """``template.yaml`` after the SAM transform, in the region ``sam`` would have unless one is set."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(sam_transformed(load_template()), indent=2) + "\n")


if __name__ == "__main__":
    write_transformed(Path(sys.argv[1]))
