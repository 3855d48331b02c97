"""The AWS configuration a command runs with, and one clear message, with the fix, for each way it can
be missing or wrong: no region, no credentials, an unknown profile, an endpoint nothing answers on,
a table or queue of the stack that is not there.

Locally the fix is always the same (the embedded server prints the environment every other shell
needs); against a deployed stack it is the profile and the stack's name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from local_runtime.cli.session import CommandError, error_code

HOW_TO_FIX = (
    "locally, start `share-worker serve` in another shell and run the `export ...` line it prints in "
    "this one; for a deployed stack, set AWS_PROFILE to a profile with credentials and a region, and "
    "give the stack's name with --stack"
)


@contextmanager
def region_from_aws_region() -> Iterator[None]:
    """Within the block, ``AWS_REGION`` counts when ``AWS_DEFAULT_REGION`` is unset: boto3 reads only
    the latter, the Lambda runtime and most SDKs the former."""
    region = os.environ.get("AWS_REGION")
    if region is None or "AWS_DEFAULT_REGION" in os.environ:
        yield
        return
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        yield
    finally:
        os.environ.pop("AWS_DEFAULT_REGION", None)


@contextmanager
def explained_aws_errors(missing_table: Callable[[], str]) -> Iterator[None]:
    """Turns the SDK's configuration and connection errors into a :class:`CommandError` that says how
    to fix them; ``missing_table`` says why the stack's table is not there. A ``ClientError`` wrapped
    by the worker's services (``RetryableProcessingError``) is found through its cause."""
    try:
        yield
    except Exception as error:
        message = _explanation(error, missing_table)
        if message is None:
            raise
        raise CommandError(message) from error


def _explanation(error: BaseException, missing_table: Callable[[], str]) -> str | None:
    cause = error.__cause__ if isinstance(error.__cause__, Exception) else error
    for candidate in (error, cause):
        if isinstance(candidate, NoRegionError):
            return (
                f"no AWS region is configured (AWS_REGION, AWS_DEFAULT_REGION or the profile's): {HOW_TO_FIX}"
            )
        if isinstance(candidate, (NoCredentialsError, PartialCredentialsError)):
            return f"no usable AWS credentials ({candidate}): {HOW_TO_FIX}"
        if isinstance(candidate, ProfileNotFound):
            return f"{candidate} (AWS_PROFILE): {HOW_TO_FIX}"
        if isinstance(candidate, (EndpointConnectionError, ConnectTimeoutError)):
            endpoint = candidate.kwargs.get("endpoint_url", "the endpoint")
            return f"nothing answers at {endpoint}: {HOW_TO_FIX}"
        if isinstance(candidate, ClientError) and error_code(candidate) == "ResourceNotFoundException":
            return missing_table()  # the CLI's only such resource: its queues answer QueueDoesNotExist
    return None
