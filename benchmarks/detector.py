"""Detector throughput: every backend on this CPU, the local server's overhead, and the torch
backend (the GPU serving path) on a device.

    .venv/bin/python benchmarks/detector.py [--seconds 2.5]      # CPU figures, all backends
    .venv/bin/python benchmarks/detector.py --device cuda         # torch backend on the GPU
    .venv/bin/python benchmarks/detector.py --device cpu --batches 1,8,32

Without --device it prints images/second per backend at batch 1 and 8, single- and
multi-threaded, then the server's overhead as a ratio measured in the same run. With --device
it measures the torch backend there (benchmarks/detector_torch.py): the network alone and the
server's end-to-end path at each batch size, their ratio, memory, concurrent requests, and
agreement with the ONNX backend. Where the project is not installed (a GPU machine with torch):

    PYTHONPATH=layers/prelabel:infra/detector python3 benchmarks/detector.py --device cuda
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from prelabel.detector_wire import encode_batch
from prelabel_detector.descriptor import Descriptor, bundled
from prelabel_detector.handler import LoadedModel, input_fn, load_model, output_fn, predict_fn
from prelabel_detector.server import DetectorServer, serve_in_thread

SHARED = Path(__file__).resolve().parents[2] / "shared"
YOLOX_DIR = SHARED / "models" / "yolox-nano"
COCO_DIR = SHARED / "data" / "coco-val-sample"


def sample_images(count: int) -> list[bytes]:
    files = sorted(COCO_DIR.glob("*.jpg"))
    if files:
        return [files[i % len(files)].read_bytes() for i in range(count)]
    import cv2
    import skimage.data

    photos = [skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee()]
    encoded = [cv2.imencode(".jpg", p[..., ::-1])[1].tobytes() for p in photos]
    return [encoded[i % len(encoded)] for i in range(count)]


def rate(call: Callable[[], object], images_per_call: int, seconds: float) -> float:
    """Images/s from the median call, so a burst of load from other processes does not skew it."""
    call()  # warm-up: first runs allocate buffers and pick kernels
    durations: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(durations) < 3 or time.perf_counter() < deadline:
        start = time.perf_counter()
        call()
        durations.append(time.perf_counter() - start)
    return images_per_call / statistics.median(durations)


def direct(model: LoadedModel, body: bytes, content_type: str) -> Callable[[], bytes]:
    return lambda: output_fn(predict_fn(input_fn(body, content_type), model), "application/json")


def descriptors() -> dict[str, tuple[Descriptor | None, str]]:
    found: dict[str, tuple[Descriptor | None, str]] = {
        "ssd-tf": (Descriptor.load(bundled("ssd_mobilenet_v2_coco.json")), "")
    }
    if (YOLOX_DIR / "yolox_nano.onnx").is_file():
        found["yolox-onnx"] = (Descriptor.load(bundled("yolox_nano.json"), YOLOX_DIR), "")
    else:
        found["yolox-onnx"] = (None, f"skipped: {YOLOX_DIR / 'yolox_nano.onnx'} absent")
    return found


def throughput(seconds: float, images: list[bytes]) -> None:
    cores = os.cpu_count() or 1
    print(f"== CPU throughput, images/s ({cores} cores, COCO JPEGs, full handler chain)")
    print(f"{'backend':<12}{'threads':>8}{'batch 1':>10}{'batch 8':>10}{'b8/b1':>8}")
    for family, (descriptor, note) in descriptors().items():
        if descriptor is None:
            print(f"{family:<12}{note}")
            continue
        for threads in sorted({1, cores}):
            model = load_model(descriptor, threads)
            one = direct(model, *encode_batch(images[:1]))
            eight = direct(model, *encode_batch(images[:8]))
            r1, r8 = rate(one, 1, seconds), rate(eight, 8, seconds)
            print(f"{family:<12}{threads:>8}{r1:>10.1f}{r8:>10.1f}{r8 / r1:>8.2f}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_overhead(seconds: float, images: list[bytes]) -> None:
    family, (descriptor, _) = next((k, v) for k, v in descriptors().items() if v[0] is not None)
    if "yolox-onnx" in descriptors() and descriptors()["yolox-onnx"][0] is not None:
        # The fastest model shows the server's fixed costs most clearly.
        family, (descriptor, _) = "yolox-onnx", descriptors()["yolox-onnx"]
    assert descriptor is not None
    model = load_model(descriptor)
    server = DetectorServer(("127.0.0.1", free_port()), model, "bench")
    serve_in_thread(server)
    body, content_type = encode_batch(images[:8])
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port))

    def over_http() -> bytes:
        conn.request("POST", "/invocations", body=body, headers={"Content-Type": content_type})
        return conn.getresponse().read()

    import boto3  # only this section needs it; a GPU machine may have no AWS SDK

    runtime = boto3.session.Session(
        aws_access_key_id="x",
        aws_secret_access_key="x",
        region_name="us-east-1",
    ).client("sagemaker-runtime", endpoint_url=server.url)

    def over_boto3() -> bytes:
        response = runtime.invoke_endpoint(
            EndpointName="bench", Body=body, ContentType=content_type
        )
        payload: bytes = response["Body"].read()
        return payload

    print(f"== Server overhead ({family}, batch 8, default threads), same run")
    paths = {
        "direct predict_fn": direct(model, body, content_type),
        "HTTP /invocations": over_http,
        "boto3 invoke_endpoint": over_boto3,
    }
    for call in paths.values():
        call()
    # Interleaved call by call, so drift in machine load hits all three paths alike.
    durations: dict[str, list[float]] = {name: [] for name in paths}
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(durations["direct predict_fn"]) < 5:
        for name, call in paths.items():
            start = time.perf_counter()
            call()
            durations[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in durations.items()}
    base = medians["direct predict_fn"]
    for name, median in medians.items():
        print(f"{name:<24}{8 / median:>8.1f} img/s   time ratio {median / base:.3f}")
    for name in ("HTTP /invocations", "boto3 invoke_endpoint"):
        overhead = medians[name] / base - 1
        verdict = "within" if overhead < 0.10 else "OVER"
        print(f"overhead {name}: {overhead * 100:+.1f}% ({verdict} the 10% target)")
    conn.close()
    server.shutdown()
    server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=2.5, help="time per measurement")
    parser.add_argument("--device", help="measure the torch backend on this device (cuda, cpu)")
    parser.add_argument("--batches", help="batch sizes for --device (default 1,32,128,256)")
    parser.add_argument("--concurrency", type=int, default=4, help="threads sending requests")
    parser.add_argument("--weights", type=Path, help="yolox_nano.pt (default: convert the ONNX)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads with --device cpu")
    args = parser.parse_args()
    if args.device:
        from detector_torch import run  # beside this script: on sys.path when it runs

        batches = [int(b) for b in (args.batches or "1,32,128,256").split(",")]
        run(args.device, batches, args.seconds, args.concurrency, args.weights, args.threads)
        return
    images = sample_images(32)
    throughput(args.seconds, images)
    server_overhead(args.seconds * 4, images)
    print("== GPU: `--device cuda` measures the torch backend (see docs/benchmarks.md)")


if __name__ == "__main__":
    main()
