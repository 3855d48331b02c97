"""What every command is handed: the parsed options, and the clients and stack built from them when used."""

from __future__ import annotations

import argparse
from functools import cached_property
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from local_runtime.stack.provision import StackResources, locate
from local_runtime.stack.template import Stack, load_template
from services.dynamodb_service import DynamoDBService

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient


class CommandError(Exception):
    """A command cannot do what was asked; the message says why and what to do."""


class Session:
    """What a command needs, built on first use from the global options and boto3's configuration."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    @cached_property
    def sqs(self) -> SQSClient:
        return boto3.client("sqs")

    @cached_property
    def stack(self) -> Stack:
        region = boto3.session.Session().region_name or "us-east-1"
        return Stack(
            load_template(self.args.template), self.args.stack, region, overrides=dict(self.args.param)
        )

    @cached_property
    def resources(self) -> StackResources:
        try:
            return locate(self.stack, self.sqs)
        except ClientError as error:
            raise CommandError(
                f"stack {self.args.stack!r} is not there ({error_code(error)}): "
                "start `share-worker serve`, or run `share-worker provision` against your endpoint"
            ) from error

    def table_access(self) -> DynamoDBService:
        name = self.resources.table_name
        return DynamoDBService(name, table=boto3.resource("dynamodb").Table(name))


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "error"))
