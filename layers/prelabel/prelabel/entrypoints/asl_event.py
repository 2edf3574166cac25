"""The base of every event a state machine hands a function: fields it does not name are
ignored (the ASL may add context), and an event is never changed once read."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class AslEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
