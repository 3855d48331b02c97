"""A queue of the included template as a full ``IQueue``: resource policy statements land on it.

``sqs.Queue.from_queue_attributes`` would give an imported queue, whose resource policy CDK never
writes: ``topic.add_subscription(SqsSubscription(queue))`` would subscribe a queue that refuses the
topic's messages, without a warning. The template's queues belong to the stack like a queue the app
creates itself, so :class:`IncludedQueue` lets CDK create their ``AWS::SQS::QueuePolicy`` the same
way (``autoCreatePolicy``, which ``sqs.Queue`` sets too).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnResource, Token
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class IncludedQueue(sqs.QueueBase):
    """The included ``AWS::SQS::Queue`` ``resource``; ``properties`` are its properties as the stack
    gets them (whether it is FIFO, how it is encrypted: the template's queues use SQS-owned keys, so
    there is no KMS key to grant)."""

    def __init__(
        self, scope: Construct, construct_id: str, resource: CfnResource, properties: dict[str, Any]
    ) -> None:
        super().__init__(scope, construct_id)
        self._resource = resource
        self._properties = properties

    @property
    def _auto_create_policy(self) -> bool:
        return True

    @property
    def fifo(self) -> bool:
        return bool(self._properties.get("FifoQueue", False))

    @property
    def queue_arn(self) -> str:
        return str(Token.as_string(self._resource.get_att("Arn")))

    @property
    def queue_url(self) -> str:
        return str(self._resource.ref)

    @property
    def queue_name(self) -> str:
        return str(Token.as_string(self._resource.get_att("QueueName")))

    @property
    def encryption_master_key(self) -> None:
        return None

    @property
    def encryption_type(self) -> sqs.QueueEncryption | None:
        return sqs.QueueEncryption.SQS_MANAGED if self._properties.get("SqsManagedSseEnabled") else None
