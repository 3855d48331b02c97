"""The peer: what a careful team would build instead of this worker, kept only as a benchmark contender.

The naive three calls of :mod:`bench.baseline` (``GetItem``, ``UpdateItem``, ``PutItem``), made
idempotent per ``eventId`` with Powertools' ``idempotent_function`` and ``DynamoDBPersistenceLayer``,
inside Powertools' ``BatchProcessor`` with ``process_partial_response``, wired as the Powertools docs
show for batch processing: the record handler is the idempotent function (``data_keyword_argument``
``record``), the handler registers the Lambda context on the ``IdempotencyConfig`` so an in-progress
record expires when its invocation would have timed out.

Choices a careful team makes: the idempotency key is the body's ``eventId`` (not the ``messageId``,
which a producer's resend changes), the records live in a table of their own with the docs' default
layout (partition key ``id``, TTL on ``expiration``; the shared table's layout would put every record on
the single partition ``idempotency#<function>``), and they are kept as long as our dedup markers.

What idempotency does not give: the three calls are not atomic. A crash after ``UpdateItem`` and before
``PutItem`` leaves the share counted without its feed entry, and the in-progress record expires with
the invocation, so the redelivery runs all three calls again and counts the share twice
(``python -m bench.correctness`` shows it). Never deployed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from bench.baseline import SequentialBaseline
from services.config import DEFAULT_DEDUP_TTL_DAYS
from services.dynamodb_service import DynamoDBService

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb.client import DynamoDBClient

EVENT_ID = "powertools_json(body).eventId"
"""JMESPath to the idempotency key: the SQS record's JSON body, its ``eventId``."""
KEY_ATTRIBUTE = "id"
EXPIRY_ATTRIBUTE = "expiration"
DEDUP_WINDOW = timedelta(days=DEFAULT_DEDUP_TTL_DAYS)


def create_idempotency_table(client: DynamoDBClient, name: str) -> None:
    """The table the Powertools docs ask for: on-demand, partition key ``id``, TTL on ``expiration``."""
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
        KeySchema=[{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE}
    )


class IdempotentPeer:
    """``peer(event, context)`` handles an SQS batch and returns its ``batchItemFailures``.

    ``idempotency_client``: a plain DynamoDB client for ``DynamoDBPersistenceLayer``, which sends
    attribute values in their wire form (a resource's client would transform them a second time).
    """

    def __init__(
        self, dynamodb_service: DynamoDBService, idempotency_table: str, idempotency_client: DynamoDBClient
    ) -> None:
        self.config = IdempotencyConfig(
            event_key_jmespath=EVENT_ID, expires_after_seconds=int(DEDUP_WINDOW.total_seconds())
        )
        persistence = DynamoDBPersistenceLayer(table_name=idempotency_table, boto3_client=idempotency_client)
        naive = SequentialBaseline(dynamodb_service)
        self.record_handler = idempotent_function(
            naive.share, data_keyword_argument="record", persistence_store=persistence, config=self.config
        )
        self.processor = BatchProcessor(event_type=EventType.SQS)

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.config.register_lambda_context(context)
        return dict(
            process_partial_response(
                event=event, record_handler=self.record_handler, processor=self.processor, context=context
            )
        )
