"""A CDK app shaped like the product owner's stack: the app's table, and the Share Worker on it.

``python infra/app.py`` (or ``cdk synth`` with ``cdk.json``) writes the cloud assembly to ``cdk.out/``;
the CDK CLI sets ``CDK_OUTDIR`` itself. Synthesizing needs no AWS account. Bundling the function's
code fetches its wheels with pip, which needs a package index it can reach (PyPI, or the one pip is
configured for: pip's cache alone does not do, its copies of the index's pages expire after minutes);
when pip cannot, the app says so in one line. Offline, ``SHARE_WORKER_SKIP_BUNDLING=1`` skips
bundling (for the template only: the code asset is then ``src/`` without its dependencies, never to
be deployed). It sets CDK's own switch, the context ``aws:cdk:bundling-stacks`` to ``[]``, after the
CLI's context: the CDK CLI sets that key itself (to the stacks it bundles), so
``-c aws:cdk:bundling-stacks=[]`` on its command line has no effect.

The worker's settings are the product owner's own example: batches of 20 records gathered for up
to 10 seconds, a message parked in the DLQ after its 5th receive.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.bundling import NO_BUNDLING, PIP_FAILED
from infra.share_worker import ShareWorker

CDK_OUT = Path(__file__).resolve().parent.parent / "cdk.out"
SKIP_BUNDLING_VARIABLE = "SHARE_WORKER_SKIP_BUNDLING"
BUNDLING_FAILED = "Failed to bundle asset"
"""How jsii's error for a failed bundling begins."""
BUNDLING_FOLDERS = "bundling-temp-*"
"""The CDK's folders for a bundling in progress (or failed), in the cloud assembly's folder; a bundle
that succeeded is renamed ``asset.<hash>``."""
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


def build_app(app: App) -> App:
    WardrobeStack(app, STACK_NAME)
    return app


def cli_app() -> App:
    """The app as ``python infra/app.py`` or the CDK CLI runs it."""
    return App(
        outdir=None if "CDK_OUTDIR" in os.environ else str(CDK_OUT),
        post_cli_context=bundling_switch(os.environ),
    )


def bundling_switch(environ: Mapping[str, str]) -> dict[str, list[str]] | None:
    """The context that skips bundling when ``SHARE_WORKER_SKIP_BUNDLING=1``; set after the CLI's."""
    return NO_BUNDLING if environ.get(SKIP_BUNDLING_VARIABLE) == "1" else None


def main(app: App | None = None) -> None:
    """Synthesizes the app; a failed bundling ends with one line (jsii's error is a long traceback) and
    leaves no folder behind: the CDK keeps the one it bundled into (``bundling-temp-<hash>-building``),
    which holds nothing pip's one-line reason does not say."""
    app = app or cli_app()
    try:  # the CDK bundles when the asset is created, before synth
        build_app(app).synth()
    except RuntimeError as error:
        if BUNDLING_FAILED not in str(error):
            raise
        for leftover in Path(app.outdir).glob(BUNDLING_FOLDERS):
            shutil.rmtree(leftover, ignore_errors=True)
        text = str(error)
        reason = text[text.find(PIP_FAILED) :] if PIP_FAILED in text else text
        sys.exit(
            f"infra/app.py: bundling the worker's code failed ({reason}); to synthesize the template "
            f"without it (not for deploying): {SKIP_BUNDLING_VARIABLE}=1"
        )


if __name__ == "__main__":
    main()
