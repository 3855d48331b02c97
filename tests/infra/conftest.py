"""CDK apps synthesized offline: no AWS account, and no bundling (CDK's own switch), so no network."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Template

from infra.bundling import NO_BUNDLING
from infra.share_worker import ShareWorker

STACK_NAME = "shop"


@dataclass(frozen=True)
class Synthesized:
    stack: cdk.Stack
    worker: ShareWorker
    template: Template

    @property
    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = self.template.to_json()
        return document

    def logical_id(self, construct: cdk.IResource) -> str:
        """The logical ID of an L2 construct's CloudFormation resource in this stack."""
        child = construct.node.default_child
        assert isinstance(child, cdk.CfnElement)
        return str(self.stack.get_logical_id(child))


def synthesize(
    build: Callable[[cdk.Stack], ShareWorker], env: cdk.Environment | None = None, *, bundled: bool = False
) -> Synthesized:
    """``build`` puts a worker (and what it needs) into a fresh stack (environment-agnostic unless
    ``env`` is given), which is then synthesized; without bundling unless ``bundled``."""
    stack = cdk.Stack(cdk.App(context=None if bundled else NO_BUNDLING), STACK_NAME, env=env)
    worker = build(stack)
    return Synthesized(stack, worker, Template.from_stack(stack))


SOME_ENVIRONMENT = cdk.Environment(account="111111111111", region="us-east-1")
"""An account and a region, for what CDK does differently when it knows them."""


def app_table(stack: cdk.Stack, table_name: str | None = None) -> dynamodb.Table:
    """The app's table as its stack would create it: string ``PK``/``SK``, TTL on ``ExpiresAt``."""
    return dynamodb.Table(
        stack,
        "AppTable",
        table_name=table_name,
        partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
        time_to_live_attribute="ExpiresAt",
    )
