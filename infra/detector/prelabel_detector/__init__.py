"""Prelabel's detector: the SageMaker model server, its local endpoint and its client codec.

Importing the package stays cheap (no numpy/OpenCV/ONNX Runtime) so the pre-labeling worker can
use `prelabel_detector.codec` inside a Lambda without the model-server dependencies.
"""

__version__ = "0.1.0"
