"""The LabelBatch handler in a process that dies when it decodes a poison image.

A file whose bytes start with POISON ends the process with `os._exit(137)`, the way the kernel's
out-of-memory killer ends a Lambda process: no exception, no answer, nothing written.
"""

from __future__ import annotations

import os
from typing import Any

from prelabel.entrypoints.label_batch import handler as real_handler
from prelabel.imaging import preprocess
from prelabel.services import labeling

POISON = b"POISON"
_real_prepare = preprocess.prepare_image


def _dying_prepare(data: bytes, *args: Any, **kwargs: Any) -> Any:
    if data.startswith(POISON):
        os._exit(137)
    return _real_prepare(data, *args, **kwargs)


preprocess.prepare_image = _dying_prepare  # type: ignore[assignment]
labeling.prepare_image = _dying_prepare  # type: ignore[assignment]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return real_handler(event, context)  # type: ignore[no-any-return]
