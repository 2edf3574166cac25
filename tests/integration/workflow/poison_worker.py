"""The LabelBatch handler in a process that dies when it decodes a poison image.

A file whose bytes start with POISON ends the process with `os._exit(137)`, the way the kernel's
out-of-memory killer ends a Lambda process: no exception, no answer, nothing written.
"""

from __future__ import annotations

import os
from typing import Any

from prelabel.entrypoints.label_batch import handler as real_handler
from prelabel.imaging import budget

POISON = b"POISON"
_real_open = budget.open_image


def _dying_open(data: bytes, *args: Any, **kwargs: Any) -> Any:
    """Decoding starts here: a poison file ends the process before any pixel is read."""
    if data.startswith(POISON):
        os._exit(137)
    return _real_open(data, *args, **kwargs)


budget.open_image = _dying_open  # type: ignore[assignment]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return real_handler(event, context)  # type: ignore[no-any-return]
