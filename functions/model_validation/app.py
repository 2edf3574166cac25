"""Model validation job: one uploaded model file validated (in a child process with limits),
packaged and recorded; or, from the state machine's last resort, its failure recorded."""

import os

from prelabel.entrypoints.model_validation import handler_with
from prelabel_validation.validator import DetectorValidator, limits_from

handler = handler_with(lambda: DetectorValidator(limits_from(os.environ)))

__all__ = ["handler"]
