"""A CDK app shaped like the product owner's stack: the app's table, and the Share Worker on it.

``python infra/app.py`` (or ``cdk synth`` with ``cdk.json``) writes the cloud assembly to ``cdk.out/``;
the CDK CLI sets ``CDK_OUTDIR`` itself. Synthesizing needs no AWS account. Bundling the function's
code fetches its wheels with pip (PyPI or pip's cache); ``-c aws:cdk:bundling-stacks=[]`` on the CDK
CLI, or ``CDK_CONTEXT_JSON='{"aws:cdk:bundling-stacks": []}'``, skips it, as the tests do.

The worker's settings are the product owner's own example: batches of 20 records gathered for up
to 10 seconds, a message parked in the DLQ after its 5th receive.
"""

from __future__ import annotations

import os
from pathlib import Path

from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.share_worker import ShareWorker

CDK_OUT = Path(__file__).resolve().parent.parent / "cdk.out"
STACK_NAME = "wardrobe-app"


class WardrobeStack(Stack):
    """The app's single table (its API writes the ``ITEM#`` records) and the worker that shares them."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "AppTable",
            partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="ExpiresAt",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.share_worker = ShareWorker(
            self,
            "ShareWorker",
            table=self.table,
            batch_size=20,
            max_batching_window=Duration.seconds(10),
            max_receive_count=5,
        )


def build_app(app: App | None = None) -> App:
    app = app or App(outdir=None if "CDK_OUTDIR" in os.environ else str(CDK_OUT))
    WardrobeStack(app, STACK_NAME)
    return app


if __name__ == "__main__":
    build_app().synth()
