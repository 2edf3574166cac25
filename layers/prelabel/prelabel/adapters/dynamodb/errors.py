"""Translation of pynamodb/botocore failures into the domain's typed errors, and the reads and
writes whose failure is an answer: a missing item (NotFound), a key taken (Conflict)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pynamodb.attributes import Attribute
from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException
from pynamodb.models import Model

from prelabel.domain.errors import Conflict, NotFound, StorageError

_M = TypeVar("_M", bound=Model)

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


def read_item(
    model: type[_M], hash_key: str, range_key: str | None = None, *, what: str, missing: str
) -> _M:
    """The item at these keys, read consistently; NotFound(`missing`) when there is none."""
    try:
        with storage_errors(what):
            return model.get(hash_key, range_key, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(missing) from exc


def save_new(item: Model, key: Attribute[Any], what: str, exists: str) -> None:
    """Save `item` if no item has its key yet (`key` being one of its key attributes);
    Conflict(`exists`) otherwise."""
    try:
        with storage_errors(what):
            item.save(condition=key.does_not_exist())
    except PutError as exc:
        raise Conflict(exists) from exc
