"""Prelabel's detector: the SageMaker model server, its local endpoint and its deployment.

The wire format both sides speak is `prelabel.detector_wire`, in the Lambda layer; the model
artifact carries a copy of that one module.
"""

__version__ = "0.1.0"
