"""A list the user sent may not repeat a key; the refusal names both places."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

from prelabel.domain.errors import InvalidInput

K = TypeVar("K", bound=Hashable)


class FirstPlaces(Generic[K]):
    """Where each key of the list `name` first stood."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._first: dict[K, int] = {}

    def claim(self, i: int, key: K, part: str, repeated: str, why: str = "") -> None:
        """Place `i` takes `key`; where an earlier place holds it, `<name>[i].<part>` is refused
        with "`repeated` <name>[first]`why`"."""
        first = self._first.setdefault(key, i)
        if first != i:
            field = f"{self._name}[{i}].{part}"
            raise InvalidInput(f"{field}: {repeated} {self._name}[{first}]{why}", field=field)
