"""The torch backend on one device: the network alone against the server's end-to-end path.

Run through `benchmarks/detector.py --device cuda` (or `--device cpu` to try the method).
Imports only numpy, OpenCV, Pillow and torch (onnx and onnxruntime for the weights and the
agreement check), so it also runs with PYTHONPATH=layers/prelabel:infra/detector on a machine
where the project is not installed.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from prelabel.detector_wire import Detection, Options, encode_batch
from prelabel.imaging.preprocess import prepare_image
from prelabel_detector.backends.yolox_torch import Decoded
from prelabel_detector.descriptor import Descriptor, bundled
from prelabel_detector.handler import LoadedModel, PreparedBatch, input_fn, load_model, output_fn
from prelabel_detector.handler import predict_fn as handler_predict
from prelabel_detector.images import check_header, decode_image

ROOT = Path(__file__).resolve().parents[1]
# The test photos and model: beside the checkout (CI, this machine), inside a copied tree, or
# wherever PRELABEL_SHARED points.
SHARED = next(
    (
        path
        for path in (
            Path(os.environ.get("PRELABEL_SHARED", ROOT.parent / "shared")),
            ROOT / "shared",
        )
        if (path / "models").is_dir()
    ),
    ROOT.parent / "shared",
)
YOLOX_ONNX = SHARED / "models" / "yolox-nano" / "yolox_nano.onnx"
COCO_DIR = SHARED / "data" / "coco-val-sample"
WIRE_BATCH = 32  # images per SageMaker request (detector_wire.MAX_BATCH, 6 MB body limit)
SURE, MIN_IOU = 0.3, 0.9


def run(
    device: str,
    batches: list[int],
    seconds: float,
    concurrency: int,
    weights: Path | None,
    threads: int | None = None,
) -> None:
    cuda = device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        print(f"== torch on {device}: not measured (torch {torch.__version__} sees no CUDA device)")
        return

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    print(f"== torch backend on {device}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    model = load(device, weights, threads)
    describe(model, device, cuda)
    originals, as_sent = photos_as_sent()
    reference = onnx_backend(threads) if not cuda else None
    batch_table(model, reference, as_sent, batches, seconds, sync, cuda)
    if cuda:
        free, total = torch.cuda.mem_get_info(device)
        print(f"GPU memory: {total / 2**20:.0f} MiB in all, {free / 2**20:.0f} MiB free now")
    else:
        print("(peak figures on the CPU: the process's maximum resident set so far)")

    per_request = concurrent(model, as_sent, seconds, concurrency, sync)
    stages(model, as_sent, sync)
    agreement(model, originals, as_sent)
    print(
        f"\nautoscaling: 70% of {per_request:.0f} img/s in requests of {WIRE_BATCH} = "
        f"--target-invocations {0.7 * 60 * per_request / WIRE_BATCH:.0f} per instance per minute"
    )
    print(
        "cost per 1,000 images = hourly price x 1000 / (3600 x images/s); at the rate above, "
        f"${1000 / (3600 * per_request):.5f} per $1/h of instance price "
        "(benchmarks/workflow_cost.py --gpu-images-per-second applies it to the list prices)"
    )


def describe(model: LoadedModel, device: str, cuda: bool) -> None:
    gpu = torch.cuda.get_device_name(device) if cuda else platform.processor() or "CPU"
    print(
        f"machine: {gpu}; {os.cpu_count()} CPU cores (load average {os.getloadavg()[0]:.1f}); "
        f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads"
    )
    backend = model.backend
    print(
        f"backend: {backend.dtype}, channels-last, JPEG decoding on "
        f"{'the GPU (nvJPEG)' if backend.gpu_decode else 'the CPU (OpenCV)'}, "
        f"NMS by {backend.nms_kernel}"
    )


def photos_as_sent() -> tuple[list[bytes], list[bytes]]:
    """The COCO photos, and what the worker sends of them: oriented, fitted into 416 px,
    re-encoded as JPEG (quality 90)."""
    photos = sorted(COCO_DIR.glob("*.jpg"))
    originals = [p.read_bytes() for p in photos]
    as_sent = [prepare_image(data, 416).payload for data in originals]
    kb = sum(map(len, as_sent)) / len(as_sent) / 1024
    print(f"images: {len(as_sent)} COCO photos as the worker sends them (416 px JPEG, {kb:.0f} KB)")
    return originals, as_sent


def batch_table(
    model: LoadedModel,
    reference: LoadedModel | None,
    as_sent: list[bytes],
    batches: list[int],
    seconds: float,
    sync: Callable[[], None],
    cuda: bool,
) -> None:
    """(a) the network alone against (b) the end-to-end path, per batch size."""
    backend: Any = model.backend
    print(
        "\n(a) network alone: input already on the device, forward pass only\n"
        "(b) end to end: JPEG bytes -> header checks, decoding, letterbox, forward, grid decode,"
        " NMS -> JSON bytes (predict_fn + output_fn)"
        + ("\n(onnx) the ONNX backend's end to end on the same JPEGs" if reference else "")
        + "\ncalls of (a) and (b) alternate, so a change in machine load hits both alike"
    )
    header = f"{'batch':>6}{'(a) img/s':>12}{'(b) img/s':>12}{'(b)/(a)':>9}"
    header += f"{'(onnx) img/s':>14}" if reference else ""
    print(header + f"{'peak MiB a/b':>16}")
    options = Options()
    for size in batches:
        blank = backend.blank(size)
        prepared = PreparedBatch([as_sent[i % len(as_sent)] for i in range(size)], options)
        paths: dict[str, Callable[[], object]] = {
            "a": lambda b=blank: backend.forward(b),
            "b": lambda p=prepared: output_fn(handler_predict(p, model), "application/json"),
        }
        rates = {name: size / t for name, t in interleaved(paths, seconds, sync).items()}
        if reference:
            # On its own: ONNX Runtime's threads spin after each run and would slow the next
            # torch call if the three alternated.
            onnx = {
                "onnx": lambda p=prepared: output_fn(
                    handler_predict(p, reference), "application/json"
                )
            }
            rates["onnx"] = size / interleaved(onnx, seconds, sync)["onnx"]
        peak_a, peak_b = peak_mib(paths["a"], cuda), peak_mib(paths["b"], cuda)
        line = f"{size:>6}{rates['a']:>12.1f}{rates['b']:>12.1f}{rates['b'] / rates['a']:>9.2f}"
        line += f"{rates['onnx']:>14.1f}" if reference else ""
        print(line + f"{peak_a:>8.0f}/{peak_b:<7.0f}")


def load(device: str, weights: Path | None, threads: int | None) -> LoadedModel:
    folder = weights.parent if weights else Path(tempfile.mkdtemp(prefix="yolox-torch-"))
    if weights is None:
        from prelabel_detector.backends.yolox_weights import convert

        started = time.perf_counter()
        convert(YOLOX_ONNX, folder / "yolox_nano.pt")
        print(f"weights: converted from {YOLOX_ONNX.name} in {time.perf_counter() - started:.1f} s")
    descriptor = Descriptor.load(bundled("yolox_nano_torch.json"), folder)
    started = time.perf_counter()
    model = load_model(descriptor, threads, device)
    print(f"load: {time.perf_counter() - started:.1f} s (on CUDA with cuDNN tuning up to batch 32)")
    return model


def interleaved(
    calls: dict[str, Callable[[], object]], seconds: float, sync: Callable[[], None]
) -> dict[str, float]:
    """Median seconds per call of each path, calls alternating (after warm-up calls that let
    cuDNN pick its kernels)."""
    for call in calls.values():
        for _ in range(3):
            call()
    sync()
    durations: dict[str, list[float]] = {name: [] for name in calls}
    deadline = time.perf_counter() + seconds * len(calls)
    while min(map(len, durations.values())) < 5 or time.perf_counter() < deadline:
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            sync()
            durations[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in durations.items()}


def peak_mib(call: Callable[[], object], cuda: bool) -> float:
    """Peak GPU memory of one call; on the CPU the process's peak resident set so far."""
    if not cuda:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    call()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / 2**20


def onnx_backend(threads: int | None = None) -> LoadedModel | None:
    try:
        descriptor = Descriptor.load(bundled("yolox_nano.json"), YOLOX_ONNX.parent)
        return load_model(descriptor, threads)
    except Exception as exc:  # onnxruntime absent, or no model file
        print(f"ONNX backend not loaded ({exc})")
        return None


def concurrent(
    model: LoadedModel,
    as_sent: list[bytes],
    seconds: float,
    threads: int,
    sync: Callable[[], None],
) -> float:
    """(c) requests of 32 from several threads at once, as a model server's workers send them."""
    body, content_type = encode_batch([as_sent[i % len(as_sent)] for i in range(WIRE_BATCH)])

    def one_request() -> bytes:
        return output_fn(handler_predict(input_fn(body, content_type), model), "application/json")

    for _ in range(3):
        one_request()
    sync()
    done = [0] * threads
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        while time.perf_counter() < deadline:
            one_request()
            done[index] += WIRE_BATCH

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    total = sum(done) / elapsed
    print(
        f"\n(c) end to end, requests of {WIRE_BATCH} (wire format, input_fn included) from "
        f"{threads} threads at once: {total:.1f} img/s"
    )
    return total


def stages(model: LoadedModel, as_sent: list[bytes], sync: Callable[[], None]) -> None:
    """Where the time of one request of 32 goes, stage by stage (each synchronised)."""
    backend: Any = model.backend
    body, content_type = encode_batch(as_sent[:WIRE_BATCH])
    prepared = input_fn(body, content_type)
    jpegs = prepared.images
    headers = {i: check_header(data) for i, data in enumerate(jpegs)}

    def decode() -> list[Decoded]:
        if backend.gpu_decode:
            found = backend._decode_on_device(list(range(len(jpegs))), jpegs, headers)
            return [found[i] for i in range(len(jpegs))]
        return [
            Decoded(torch.from_numpy(decode_image(data, headers[i])).permute(2, 0, 1), "BGR")
            for i, data in enumerate(jpegs)
        ]

    decoded = decode()
    batch, ratios = backend._letterbox(decoded)
    raw = backend.forward(batch)[: len(jpegs)].float()
    prediction = handler_predict(prepared, model)
    where = "nvJPEG" if backend.gpu_decode else "OpenCV"
    timings: dict[str, Callable[[], object]] = {
        "framing": lambda: input_fn(body, content_type),
        "headers": lambda: [check_header(data) for data in jpegs],
        f"decode ({where})": decode,
        "letterbox": lambda: backend._letterbox(decoded),
        "forward": lambda: backend.forward(batch),
        "grid+NMS+boxes": lambda: backend._postprocess(raw, ratios, decoded, Options()),
        "JSON": lambda: output_fn(prediction, "application/json"),
    }
    parts = []
    for name, call in timings.items():
        call()
        sync()
        runs = []
        for _ in range(20):
            start = time.perf_counter()
            call()
            sync()
            runs.append(time.perf_counter() - start)
        parts.append(f"{name} {statistics.median(runs) / WIRE_BATCH * 1e6:.0f}")
    boxes = sum(len(r.detections) for r in prediction.results) / WIRE_BATCH
    print(f"stages of a request of {WIRE_BATCH}, us per image: {', '.join(parts)}")
    print(f"({boxes:.1f} boxes per image)")


def agreement(model: LoadedModel, originals: list[bytes], as_sent: list[bytes]) -> None:
    """The same detections as the ONNX backend (ONNX Runtime, CPU) on the shared photos?"""
    reference = onnx_backend()
    if reference is None:
        print("\nagreement with the ONNX backend: not checked")
        return
    print(
        f"\nagreement with the ONNX backend (ONNX Runtime, CPU, fp32) on {len(as_sent)} photos: "
        f"detections scoring >= {SURE} with a same-class box at IoU >= {MIN_IOU} in the other"
    )
    for label, images in (("as sent (416 px)", as_sent), ("original size", originals)):
        onnx, ours = detect(reference, images), detect(model, images)
        line = []
        for name, mine, theirs in (("onnx->torch", onnx, ours), ("torch->onnx", ours, onnx)):
            ious = best_ious(mine, theirs)
            matched = sum(v >= MIN_IOU for v in ious)
            low = min(ious, default=1.0)
            line.append(f"{name} {matched}/{len(ious)} matched, lowest IoU {low:.3f}")
        print(f"  {label:<18} {'; '.join(line)}")


def detect(model: LoadedModel, images: list[bytes]) -> list[list[Detection]]:
    results: list[list[Detection]] = []
    for start in range(0, len(images), WIRE_BATCH):
        prepared = PreparedBatch(images[start : start + WIRE_BATCH], Options())
        results += [r.detections for r in handler_predict(prepared, model).results]
    return results


def best_ious(mine: list[list[Detection]], theirs: list[list[Detection]]) -> list[float]:
    out = []
    for a_list, b_list in zip(mine, theirs, strict=True):
        for a in a_list:
            if a.score >= SURE:
                same = [iou(a.box, b.box) for b in b_list if b.class_id == a.class_id]
                out.append(max(same, default=0.0))
    return out


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
