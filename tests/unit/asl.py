"""The state machines' definitions as the event-model tests read them: every state by name (a
Map's inner states too), the keys a block sends, and the fields a model reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

STATEMACHINE_DIR = Path(__file__).resolve().parents[2] / "statemachine"


def _flatten(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        found[name] = state
        processor = state.get("ItemProcessor")
        if processor:
            found |= _flatten(processor)
    return found


def states(file_name: str) -> dict[str, dict[str, Any]]:
    """Every state of statemachine/`file_name` by its name."""
    return _flatten(json.loads((STATEMACHINE_DIR / file_name).read_text()))


def keys(block: dict[str, Any]) -> set[str]:
    """The keys a block sends, without the `.$` of a path value."""
    return {k.removesuffix(".$") for k in block}


def fields(model: type[Any]) -> set[str]:
    """The names a model (or a pydantic dataclass) reads, aliases where it has them."""
    found = model.model_fields if issubclass(model, BaseModel) else model.__pydantic_fields__
    return {f.alias or name for name, f in found.items()}


def required_fields(model: type[BaseModel]) -> set[str]:
    return {f.alias or n for n, f in model.model_fields.items() if f.is_required()}
