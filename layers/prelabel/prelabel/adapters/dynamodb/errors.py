"""Translation of pynamodb/botocore failures into the domain's typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from prelabel.domain.errors import StorageError

CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"


def condition_failed(exc: PynamoDBException) -> bool:
    return exc.cause_response_code == CONDITION_FAILED


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """Unexpected pynamodb errors become a StorageError naming the operation.

    Missing items, failed conditions and canceled transactions pass through: they are answers,
    and each caller turns them into its own domain error.
    """
    try:
        yield
    except PynamoDBException as exc:
        if isinstance(exc, DoesNotExist) or condition_failed(exc):
            raise
        if exc.cause_response_code == TRANSACTION_CANCELED:
            raise
        raise StorageError(f"{what} failed: {exc.cause_response_code or exc.msg}") from exc
