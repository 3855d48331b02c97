"""``ShareWorker``: the worker as a CDK construct, deployed from ``template.yaml`` itself.

The construct does not describe the queue, the DLQ, the alarm, the role or the function again: it
includes the SAM template with ``cloudformation_include.CfnInclude`` (the stack keeps its
``AWS::Serverless-2016-10-31`` transform), so every setting still lives in one file. Its props become
the template's parameters; a prop left out takes the template's default.

Two things are decided here rather than by CloudFormation:

* The template's ``Conditions`` (does the stack create its table, is there an alarm topic), its
  ``Mappings`` (the queue's visibility timeout) and ``Rules`` (a batch above 10 needs a batching
  window). A condition may only name parameters, but the table or topic handed to the construct is
  often a resource of the same app; so the construct, which knows the values at synth time, decides
  conditions and lookups itself with the local runtime's reading of the template
  (:meth:`local_runtime.stack.template.Stack.decided`) and refuses values the template would refuse
  (:meth:`~local_runtime.stack.template.Stack.validate`) with the template's message.
* The code: ``src/`` with its requirements, built for the function's runtime and architecture (read
  from the template) by :class:`infra.bundling.PipBundling`, uploaded as an asset and set as the
  function's ``CodeUri``.

The template's logical IDs are kept, so one stack holds one ``ShareWorker``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from aws_cdk import AssetHashType, BundlingOptions, DockerImage, Duration, Token
from aws_cdk import Stack as CdkStack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import cloudformation_include as cfn_include
from constructs import Construct

from infra.bundling import PipBundling
from infra.included_queue import IncludedQueue
from infra.worker_props import AlarmThresholds, parameter_values
from local_runtime.stack.template import (
    DLQ_ID,
    FUNCTION_ID,
    QUEUE_ID,
    ROLE_ID,
    TEMPLATE_PATH,
    Stack,
    TemplateError,
    load_template,
)

SOURCE = Path(__file__).resolve().parent.parent / "src"
DEPLOY_TIME_VALUE = "decided-at-deploy"
"""Stands in for a value that is a token (a table or topic of the app) when conditions are decided:
they only ask whether a value is given, and a token always is."""
TABLE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
"""What the worker's reads and writes need of a table encrypted with a customer managed key."""
DOCKER_IMAGE_NEVER_PULLED = DockerImage.from_registry("public.ecr.aws/sam/build-python3.12")
"""``BundlingOptions`` requires an image; :class:`PipBundling` always bundles, so it is never used."""


class ShareWorker(Construct):
    """The Share Worker: queue, DLQ, function, event source mapping, least-privilege role, alarms, dashboard.

    ``table``: the app's table (string ``PK``/``SK``, TTL on ``ExpiresAt``); the worker then creates
    none and its role names that table only. Without it the worker gets a table of its own.
    ``alarm_topic`` hears every alarm, and ``alarm_thresholds``
    (:class:`~infra.worker_props.AlarmThresholds`) says when they fire. The other props are the event
    source mapping's and the queue's settings (template parameters ``BatchSize``,
    ``MaximumBatchingWindowInSeconds``, ``MaximumConcurrency``, ``MaxReceiveCount``,
    ``FunctionTimeout``), and ``dedup_ttl_days`` how long an applied event is remembered
    (``DedupTtlDays``). They are whole numbers (durations in whole seconds) known at synth time: the
    template's constraints and rules are checked on them when the construct is created
    (:mod:`infra.worker_props`).

    ``function``, its ``role``, ``queue`` and ``dead_letter_queue`` stand for the template's own
    resources and take grants like constructs the app creates: a grant to ``function`` attaches a
    policy to the worker's role, a subscription of ``queue`` writes its queue policy. A ``table``
    encrypted with a key of its own (``encryption_key``) gets the worker ``kms:Decrypt`` and
    ``kms:GenerateDataKey`` on that key, in place before the function exists.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable | None = None,
        batch_size: int | None = None,
        max_batching_window: Duration | None = None,
        max_concurrency: int | None = None,
        max_receive_count: int | None = None,
        function_timeout: Duration | None = None,
        dedup_ttl_days: int | None = None,
        alarm_topic: sns.ITopic | None = None,
        alarm_thresholds: AlarmThresholds | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        try:
            self._refuse_a_second_worker()
            given = parameter_values(
                CdkStack.of(self),
                table=table,
                batch_size=batch_size,
                max_batching_window=max_batching_window,
                max_concurrency=max_concurrency,
                max_receive_count=max_receive_count,
                function_timeout=function_timeout,
                dedup_ttl_days=dedup_ttl_days,
                alarm_topic=alarm_topic,
                alarm_thresholds=alarm_thresholds,
            )
            tokens = {name: value for name, value in given.items() if Token.is_unresolved(value)}
            stack = Stack(
                load_template(TEMPLATE_PATH),
                name=CdkStack.of(self).stack_name,
                overrides={**given, **dict.fromkeys(tokens, DEPLOY_TIME_VALUE)},
            )
            self._refuse_a_nested_stack(stack)
            stack.validate()
        except (ValueError, TemplateError) as error:
            raise ValueError(f"ShareWorker {construct_id!r}: {error}") from None

        parameters = {name: tokens.get(name, stack.parameter(name)) for name in stack.template["Parameters"]}
        with tempfile.TemporaryDirectory() as folder:
            decided = Path(folder) / "template.json"
            decided.write_text(json.dumps(_included(stack.decided())))
            self.template = cfn_include.CfnInclude(
                self, "Template", template_file=str(decided), parameters=parameters
            )

        self.code = self._code_asset(stack)
        function = self.template.get_resource(FUNCTION_ID)
        function.add_property_override(
            "CodeUri", {"Bucket": self.code.s3_bucket_name, "Key": self.code.s3_object_key}
        )
        # By name (its Ref), not by ARN: an imported ARN is a token whose account CDK cannot compare,
        # so a grant would also write the role into the resource's policy (a key policy naming the role
        # that names the table that uses the key: a dependency cycle).
        self.role = iam.Role.from_role_name(
            self, "Role", self.template.get_resource(ROLE_ID).ref, mutable=True
        )
        self.function = lambda_.Function.from_function_attributes(
            self,
            "Function",
            function_arn=Token.as_string(function.get_att("Arn")),
            role=self.role,
            same_environment=True,
        )
        # Every policy granted to the role (the key's below, the app's grants) is in place before the
        # function exists, as for a function the app creates.
        function.node.add_dependency(self.role)
        if table is not None and table.encryption_key is not None:
            table.encryption_key.grant(self.role, *TABLE_KEY_ACTIONS)
        self.queue = self._queue("Queue", QUEUE_ID, stack)
        self.dead_letter_queue = self._queue("DeadLetterQueue", DLQ_ID, stack)

    def _refuse_a_second_worker(self) -> None:
        """The template's logical IDs, and the names it derives from the stack's name
        (``<stack>-share-events``...), exist once per stack."""
        stack = CdkStack.of(self)
        others = [
            node.node.path
            for node in stack.node.find_all()
            if isinstance(node, ShareWorker) and node.node.path != self.node.path
        ]
        if others:
            raise ValueError(
                f"a stack holds one ShareWorker, and {stack.stack_name} has {others[0]} already: the worker "
                "is template.yaml included whole, whose logical IDs (ShareWorkerLambda, ShareEventsQueue...) "
                "and resource names (<stack>-share-events...) would collide; put the second one in a stack "
                "of its own"
            )

    def _refuse_a_nested_stack(self, stack: Stack) -> None:
        """The template's names derive from the stack's, whose length :meth:`Stack.validate` checks; a
        nested stack's is only known once CloudFormation has made it up."""
        longest = stack.longest_stack_name()
        if CdkStack.of(self).nested and longest is not None:
            raise ValueError(
                "a nested stack's name is chosen by CloudFormation at deploy time (the parent's name, the "
                "nested stack's logical ID and a random suffix), usually longer than the "
                f"{longest.characters} characters the template's names allow: put the worker in a stack of "
                "its own"
            )

    def grant_send_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        """What the API needs to publish share events: CDK's ``grant_send_messages`` of the queue, that is
        ``sqs:SendMessage``, ``sqs:GetQueueAttributes`` and ``sqs:GetQueueUrl`` on it (the last two let a
        client find the queue by name and read its settings). No KMS grant: the queue is encrypted with
        an SQS-owned key."""
        return self.queue.grant_send_messages(grantee)

    def _queue(self, construct_id: str, logical_id: str, stack: Stack) -> sqs.IQueue:
        return IncludedQueue(
            self,
            construct_id,
            self.template.get_resource(logical_id),
            stack.properties(logical_id, "FifoQueue", "SqsManagedSseEnabled"),
        )

    def _code_asset(self, stack: Stack) -> s3_assets.Asset:
        function = stack.properties(FUNCTION_ID, "Runtime", "Architectures")
        [architecture] = function.get("Architectures", ["x86_64"])
        bundling = PipBundling(SOURCE, str(function["Runtime"]), str(architecture))
        # The key is the hash of the bundle itself, what is uploaded: the source's hash (CDK's default)
        # was the same for the real bundle and for `src/` alone when bundling is skipped, and a deploy
        # finding that key in the bucket uploads nothing. Skipped, CDK then keys the asset by its
        # construct path: never the key of a bundle.
        return s3_assets.Asset(
            self,
            "Code",
            path=str(SOURCE),
            asset_hash_type=AssetHashType.OUTPUT,
            bundling=BundlingOptions(image=DOCKER_IMAGE_NEVER_PULLED, local=bundling),
        )


def _included(template: dict[str, Any]) -> dict[str, Any]:
    """The template without its ``Description``: included, it would be appended to the app's stack
    description (CloudFormation allows 1024 bytes), which is the app's to write."""
    return {section: content for section, content in template.items() if section != "Description"}
