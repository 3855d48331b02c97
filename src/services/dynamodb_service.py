"""DynamoDB access for the worker: the only module that knows boto3 and DynamoDB error codes.

Everything goes through one ``Table`` resource. Its client (``table.meta.client``) carries boto3's
attribute-value transformation, so transactions and batch reads use plain Python values too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from services import deadline
from services.errors import RequestRejected, RetryableProcessingError, Throttled
from services.keys import Key, item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

BATCH_GET_MAX_KEYS = 100
UNPROCESSED_KEYS_ATTEMPTS = 5
UNPROCESSED_KEYS_BASE_DELAY_S = 0.05

THROTTLING_ERROR_CODES = frozenset(
    {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"}
)
"""Top-level errors by which DynamoDB refuses a request for throughput (the SDK retried them already)."""
REJECTED_REQUEST_CODES = frozenset({"ValidationException", "ItemCollectionSizeLimitExceededException"})
"""Top-level errors about the request's content: the same request will be refused again."""

Item = dict[str, Any]
CancellationReason = Mapping[str, Any]

_deserializer = TypeDeserializer()


class TransactionCancelled(Exception):
    """DynamoDB cancelled a transaction; ``reasons`` are in the order of its actions."""

    def __init__(self, reasons: Sequence[CancellationReason]) -> None:
        codes = [reason.get("Code", "None") for reason in reasons]
        super().__init__(f"transaction cancelled: {codes}")
        self.reasons = list(reasons)


def plain_item(image: Mapping[str, Any]) -> Item:
    """An item image from a cancellation reason, in plain Python values.

    boto3's resource layer converts the items of successful answers, not those inside an error, so
    ``CancellationReasons`` carry DynamoDB JSON (``{"UserId": {"S": "u1"}}``).
    """
    return {name: _deserializer.deserialize(value) for name, value in image.items()}


class DynamoDBService:
    """Reads and writes of the single table. ``table`` may be replaced by a test double.

    The function's path calls :meth:`batch_get` and :meth:`transact_write` only, and its role grants
    exactly those (``template.yaml``). The single-call methods (the product owner's ``get_item`` and
    ``update_item_shared_count``, ``put_item``, ``query_page``) serve the CLI and the baseline
    benchmark, with the operator's credentials: under the function's role they would be denied.
    """

    def __init__(self, table_name: str, table: Table | None = None) -> None:
        self.table_name = table_name
        self.table: Table = table if table is not None else boto3.resource("dynamodb").Table(table_name)

    def get_item(self, item_id: str) -> Item | None:
        """The item's metadata record, or ``None`` when the item does not exist."""
        with _dynamodb_errors("GetItem"):
            response = self.table.get_item(Key=item_key(item_id), ConsistentRead=True)
        return response.get("Item")

    def update_item_shared_count(self, item_id: str, user_id: str, updated_at: str) -> Item | None:
        """Count one share of an item and make it public, outside any transaction.

        Returns the updated item, or ``None`` when the item does not exist or the owner rule
        refuses (a private item shared by someone other than its owner). This single-write path
        has no duplicate protection; the worker itself uses :meth:`transact_write`.
        """
        try:
            response = self.table.update_item(
                Key=item_key(item_id),
                UpdateExpression="SET IsPublic = :true, UpdatedAt = :now ADD SharedCount :one",
                ConditionExpression=ITEM_SHAREABLE_CONDITION,
                ExpressionAttributeValues={":true": True, ":now": updated_at, ":one": 1, ":user": user_id},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return None
            raise _retryable("UpdateItem", error) from error
        except BotoCoreError as error:
            raise _retryable("UpdateItem", error) from error
        return response["Attributes"]

    def put_item(self, item: Item, condition: str | None = None) -> None:
        arguments: dict[str, Any] = {"Item": item}
        if condition:
            arguments["ConditionExpression"] = condition
        with _dynamodb_errors("PutItem"):
            self.table.put_item(**arguments)

    def batch_get(self, keys: Sequence[Key]) -> dict[tuple[str, str], Item]:
        """Strongly consistent reads of ``keys`` (any number), indexed by ``(PK, SK)``.

        Requests are chunked at DynamoDB's 100-key limit and ``UnprocessedKeys`` are retried with
        a short exponential backoff; a key still unprocessed after that is a retryable error.
        """
        unique = list({(key["PK"], key["SK"]): key for key in keys}.values())
        found: dict[tuple[str, str], Item] = {}
        for chunk in _chunks(unique, BATCH_GET_MAX_KEYS):
            pending: list[Key] = chunk
            for attempt in range(UNPROCESSED_KEYS_ATTEMPTS):
                with _dynamodb_errors("BatchGetItem"):
                    request: dict[str, Any] = {self.table_name: {"Keys": pending, "ConsistentRead": True}}
                    response = self.table.meta.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[(str(item["PK"]), str(item["SK"]))] = cast(Item, item)
                unprocessed = response.get("UnprocessedKeys", {}).get(self.table_name)
                if not unprocessed:
                    break
                pending = cast(list[Key], unprocessed["Keys"])
                if attempt + 1 < UNPROCESSED_KEYS_ATTEMPTS:
                    deadline.pause(
                        UNPROCESSED_KEYS_BASE_DELAY_S * 2**attempt, "BatchGetItem of unprocessed keys"
                    )
            else:
                raise RetryableProcessingError(
                    f"BatchGetItem left {len(pending)} keys unprocessed after retries"
                )
        return found

    def transact_write(self, actions: Sequence[Mapping[str, Any]]) -> None:
        """One all-or-nothing ``TransactWriteItems``.

        A cancellation raises :class:`TransactionCancelled`, a refusal for throughput
        :class:`~services.errors.Throttled`, a refusal of the request's content
        :class:`~services.errors.RequestRejected`, anything else ``RetryableProcessingError``.
        """
        try:
            self.table.meta.client.transact_write_items(TransactItems=list(actions))  # type: ignore[arg-type]
        except ClientError as error:
            code = _error_code(error)
            if code == "TransactionCanceledException":
                reasons = error.response.get("CancellationReasons", [])
                raise TransactionCancelled(reasons) from error
            if code in THROTTLING_ERROR_CODES:
                raise Throttled(f"TransactWriteItems refused for throughput: {code}") from error
            if code in REJECTED_REQUEST_CODES:
                raise RequestRejected(f"TransactWriteItems refused: {code}: {error}") from error
            raise _retryable("TransactWriteItems", error) from error
        except BotoCoreError as error:
            raise _retryable("TransactWriteItems", error) from error

    def query_page(
        self, pk: str, sk_prefix: str, limit: int, start_key: Mapping[str, Any] | None
    ) -> tuple[list[Item], dict[str, Any] | None]:
        """One page of a partition, newest (highest sort key) first, and the key to resume from."""
        arguments: dict[str, Any] = {
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": pk, ":prefix": sk_prefix},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start_key:
            arguments["ExclusiveStartKey"] = dict(start_key)
        with _dynamodb_errors("Query"):
            response = self.table.query(**arguments)
        return [cast(Item, item) for item in response.get("Items", [])], response.get("LastEvaluatedKey")


ITEM_SHAREABLE_CONDITION = (
    "attribute_exists(PK) AND (IsPublic = :true OR attribute_not_exists(UserId) OR UserId = :user)"
)
"""The item exists and the owner rule holds: public, unowned, or shared by its owner."""


@contextmanager
def _dynamodb_errors(operation: str) -> Iterator[None]:
    """Turns every SDK failure of one call into a :class:`RetryableProcessingError` naming the call."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise _retryable(operation, error) from error


def error_code_of(error: Exception) -> str:
    """What failed, in a word for the logs: DynamoDB's error code, the SDK's error for a failed
    connection, else the worker's own error type (``UnexpectedError`` for a bug)."""
    cause = error.__cause__
    if isinstance(error, RetryableProcessingError) and isinstance(cause, ClientError):
        return _error_code(cause)
    if isinstance(error, RetryableProcessingError) and isinstance(cause, BotoCoreError):
        return type(cause).__name__
    return type(error).__name__


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _retryable(operation: str, error: Exception) -> RetryableProcessingError:
    detail = _error_code(error) if isinstance(error, ClientError) else type(error).__name__
    return RetryableProcessingError(f"{operation} failed: {detail}: {error}")


def _chunks(keys: list[Key], size: int) -> Iterator[list[Key]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]
