"""Every ONNX family through ONNX Runtime: prepare the batch, run it, decode by family, NMS.

The file is read once, checked with the `onnx` package (standard operators only, no external
data, declared sizes within limits) and the same bytes go to ONNX Runtime, so a model can
never make the server open another path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from prelabel.detector_wire import Detection, Options
from prelabel_detector.backends.base import Backend, to_detections
from prelabel_detector.decoders import Candidates, OutputInfo, decoder_for
from prelabel_detector.descriptor import Descriptor
from prelabel_detector.geometry import prepare
from prelabel_detector.images import Pixels
from prelabel_detector.onnx_checks import check_image_input, inspect, parse


class OnnxBackend(Backend):
    def __init__(
        self, descriptor: Descriptor, threads: int | None = None, data: bytes | None = None
    ) -> None:
        super().__init__(descriptor)
        data = data if data is not None else descriptor.weights["model"].read_bytes()
        self.facts = inspect(parse(data))
        check_image_input(self.facts.inputs, descriptor.input_size)
        session_options = ort.SessionOptions()
        if threads is not None:
            session_options.intra_op_num_threads = threads
            session_options.inter_op_num_threads = 1
        available = ort.get_available_providers()
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        self._session = ort.InferenceSession(data, session_options, providers=providers)
        model_input = self._session.get_inputs()[0]
        self._input_name = model_input.name
        self.decoder = decoder_for(descriptor, self.facts.outputs)
        batch_dim = model_input.shape[0]
        # Static exports (like the stock yolox_nano.onnx, batch 1) are fed in chunks of their
        # batch size; dynamic exports take the whole request in one run, unless their outputs
        # have no batch axis (graphs with NMS inside), which take one image at a time.
        self.chunk = batch_dim if isinstance(batch_dim, int) and batch_dim > 0 else None
        if not self.decoder.batched:
            self.chunk = 1
        self.providers = self._session.get_providers()

    def detect(self, images: Sequence[Pixels], options: Options) -> list[list[Detection]]:
        results = []
        for index, candidates in enumerate(self.candidates(images)):
            height, width = images[index].shape[:2]
            results.append(
                to_detections(
                    candidates.boxes,
                    candidates.scores,
                    candidates.class_ids,
                    (width, height),
                    options,
                    self.descriptor.classes,
                    nms=not candidates.nms_done,
                )
            )
        return results

    def candidates(self, images: Sequence[Pixels]) -> list[Candidates]:
        """Each image's decoded boxes before the floor and NMS (validation reads these too)."""
        if not images:
            return []
        tensor, geometries = prepare(
            images, self.descriptor.input_size, self.descriptor.normalisation
        )
        chunk = self.chunk or len(images)
        found: list[Candidates] = []
        for start in range(0, len(images), chunk):
            part = tensor[start : start + chunk]
            missing = chunk - len(part)
            if missing:
                part = np.concatenate([part, np.repeat(part[-1:], missing, axis=0)])
            outputs = self._run(part)
            if self.decoder.batched:
                outputs = [o[: chunk - missing] for o in outputs]
            found.extend(self.decoder.decode(outputs, geometries[start : start + chunk]))
        return found

    def _run(self, batch: npt.NDArray[np.float32]) -> list[npt.NDArray[np.generic]]:
        return [np.asarray(o) for o in self._session.run(None, {self._input_name: batch})]

    @property
    def outputs(self) -> list[OutputInfo]:
        return self.facts.outputs
