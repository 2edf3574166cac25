"""Batch worker CPU and memory: `label_batch` on 32 real photos at 1920x1080 and 4000x3000.

Run: .venv/bin/python benchmarks/worker.py [--rounds 3] [--profile]

(--profile: cProfile of one batch per child; the worker's pool threads are invisible to it,
so the single-threaded `prepare` child shows where the preprocessing time goes.)

For each size, 32 COCO photos are scaled and cropped to the size (plus a little sensor-like
noise so the JPEGs are as dense as camera files), saved at quality 90, every 4th one stored
sideways with EXIF orientation 6. Then, each in a fresh interpreter:

- worker: `label_batch(LabelingDeps, BatchItem)` with the real adapters for everything that
  builds requests (S3ImageSource, SageMakerDetector, DynamoClaimStore.commit through pynamodb
  and botocore); only the network is replaced: a botocore `before-call` hook answers each
  request from memory (S3 GetObject reads the file from disk, InvokeEndpoint answers 6
  detections per image at once, TransactWriteItems answers success). Reads that need stored
  state (run, limit, eligible tasks, claims) are in-memory fakes of the ports.
- baseline: bare Pillow, `Image.open(f).convert("RGB").resize((416, 416 * h // w))`, no draft.

CPU time is `time.process_time()` (all threads of the process: the worker preprocesses in a
pool of 8) around the batch, min and median of the rounds after one warm-up round. Peak memory
is the child's `ru_maxrss` (Pillow allocates outside tracemalloc). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, coco_photos

SIZES = [(1920, 1080), (4000, 3000)]
BATCH = 32
INPUT_SIZE = 416
RATIO_TARGET = 1.3
MEMORY_TARGET_MB = 512
EXIF_ORIENTATION = 0x0112


# --- test photos ----------------------------------------------------------------------------


def make_photos(out: Path, width: int, height: int) -> list[Path]:
    from PIL import Image, ImageChops, ImageOps

    paths = []
    for i, src in enumerate(coco_photos()[:BATCH]):
        with Image.open(src) as im:
            img = ImageOps.fit(im.convert("RGB"), (width, height), Image.Resampling.LANCZOS)
        noise = Image.effect_noise((width, height), 10).convert("RGB")
        img = ImageChops.add(img, noise, scale=1.0, offset=-128)
        path = out / f"photo_{i:02d}.jpg"
        if i % 4 == 3:
            # Stored sideways: the camera wrote the pixels rotated and says so in EXIF.
            exif = Image.Exif()
            exif[EXIF_ORIENTATION] = 6
            img.transpose(Image.Transpose.ROTATE_90).save(path, "JPEG", quality=90, exif=exif)
        else:
            img.save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


# --- the children ---------------------------------------------------------------------------


def short_circuit(client: Any, answer: Any) -> Any:
    """Answer every request of `client` in-process: serialization runs, the network does not."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    def before_call(model: Any, params: Any, **_: Any) -> Any:
        return AWSResponse("", 200, HTTPHeaders(), None), answer(model.name, params)

    client.meta.events.register("before-call", before_call)
    return client


def worker_deps(files: dict[str, Path]) -> tuple[Any, Any]:
    import io

    import botocore.session
    from botocore.response import StreamingBody
    from pynamodb.connection import Connection

    from prelabel.adapters.dynamodb.models import bind_tables
    from prelabel.adapters.dynamodb.workflow import DynamoClaimStore
    from prelabel.adapters.s3_objects import S3ImageSource
    from prelabel.adapters.sagemaker_detector import SageMakerDetector
    from prelabel.detector_wire import Detection, ImageResult, encode_response
    from prelabel.domain.detector_classes import COCO_CLASS_NAMES
    from prelabel.domain.entities import ProjectRef, Run, RunCounters, RunSnapshot, RunStatus
    from prelabel.domain.mapping import LabelMapping, MappingRow
    from prelabel.ports.organizations import Ledger
    from prelabel.ports.tasks import RunRepository
    from prelabel.ports.workflow import BatchItem, TaskImage
    from prelabel.services.labeling import LabelingDeps
    from prelabel.settings import Settings

    settings = Settings()
    bind_tables(settings)
    ref = ProjectRef("org-1", "proj-1")
    names = dict(enumerate(COCO_CLASS_NAMES))
    rows = tuple(
        MappingRow(cid, names[cid], entry)
        for cid, entry in ((0, "per"), (2, "veh"), (5, "veh"), (7, "veh"), (16, "ani"))
    )
    snapshot = RunSnapshot(
        LabelMapping(rows),
        0.3,
        {"per": "Person", "veh": "Vehicle", "ani": "Animal"},
        BATCH,
    )
    run = Run(
        ref,
        "run-1",
        RunStatus.RUNNING,
        RunCounters(total=BATCH),
        "2026-11-01T00:00:00Z",
        snapshot=snapshot,
    )

    class Runs(RunRepository):
        def get(self, ref: Any, run_id: str) -> Run:
            return run

        def latest(self, ref: Any) -> Run | None:
            return run

    class Limit(Ledger):
        def remaining(self, org_id: str) -> int:
            return 1_000_000

        def charge(self, org_id: str, units: int) -> int:  # not used by the worker
            return units

        def reset(self, org_id: str, period: str, amount: int) -> bool:
            return True

    class Claims(DynamoClaimStore):
        """Stored-state reads in memory; `commit` is the real transaction build and send."""

        def batch_committed(self, run_id: str, batch_no: int) -> bool:
            return False

        def eligible_images(self, ref: Any, task_ids: Any, run_id: str, now: float) -> Any:
            return [TaskImage(t, "bench-bucket", t) for t in task_ids]

        def claim(self, ref: Any, tasks: Any, run_id: str, now: float, lease_s: int) -> Any:
            return list(tasks)

        def release(self, ref: Any, task_ids: Any, run_id: str) -> None:
            return None

    # Six boxes per image in the detector's input pixels (416 wide): persons, cars, a dog.
    canned = ImageResult(
        detections=[
            Detection(cid, names[cid], score, (20.0 + 50 * k, 30.0, 90.0 + 50 * k, 200.0))
            for k, (cid, score) in enumerate(
                [(0, 0.91), (0, 0.55), (2, 0.8), (2, 0.2), (16, 0.7), (9, 0.9)]
            )
        ]
    )

    def s3_answer(operation: str, params: Any) -> dict[str, Any]:
        key = params["url_path"].rsplit("/", 1)[-1]
        data = files[key].read_bytes()  # the object's bytes arriving
        return {"ContentLength": len(data), "Body": StreamingBody(io.BytesIO(data), len(data))}

    def endpoint_answer(operation: str, params: Any) -> dict[str, Any]:
        body = params["body"]
        n = body.count(b"\xff\xd8\xff")  # JPEG starts in the framed batch
        reply = encode_response("yolox-nano", "bench", [canned] * n)
        return {"Body": StreamingBody(io.BytesIO(reply), len(reply))}

    session = botocore.session.get_session()
    s3 = short_circuit(session.create_client("s3", region_name="us-east-1"), s3_answer)
    runtime = short_circuit(
        session.create_client("sagemaker-runtime", region_name="us-east-1"), endpoint_answer
    )
    connection = Connection(region="us-east-1", host="http://127.0.0.1:9")
    short_circuit(connection.client, lambda operation, params: {})
    deps = LabelingDeps(
        runs=Runs(),
        ledger=Limit(),
        claims=Claims(connection),
        images=S3ImageSource(lambda: s3),
        detector=SageMakerDetector(lambda: runtime, "bench-endpoint"),
        input_size=INPUT_SIZE,
    )
    item = BatchItem(ref.org_id, ref.project_id, "run-1", 0, tuple(sorted(files)))
    return deps, item


def child(mode: str, folder: Path, rounds: int, profile: bool) -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    files = {p.name: p for p in sorted(folder.glob("*.jpg"))}
    if mode == "worker":
        # What the deployed function has loaded when a batch arrives.
        import prelabel.entrypoints.label_batch  # noqa: F401
        from prelabel.services.labeling import label_batch

        deps, item = worker_deps(files)

        def batch() -> Any:
            report = label_batch(deps, item)
            assert report.labeled == len(files), report
            return report

    elif mode == "prepare":
        from prelabel.imaging.preprocess import prepare_image

        def batch() -> Any:
            for path in files.values():
                prepare_image(path.read_bytes(), INPUT_SIZE)

    else:
        from PIL import Image

        def batch() -> Any:
            for path in files.values():
                with Image.open(path) as im:
                    w, h = im.size
                    im.convert("RGB").resize((INPUT_SIZE, INPUT_SIZE * h // w))

    rss_before_mb = peak_rss_mb()
    batch()  # warm-up: first-use imports and clients, page cache
    cpu = []
    for _ in range(rounds):
        start = time.process_time()
        batch()
        cpu.append((time.process_time() - start) * 1000 / len(files))
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(batch)
        stats = pstats.Stats(prof, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(12)
    print(
        json.dumps(
            {
                "cpu_ms": cpu,
                "rss_before_mb": rss_before_mb,
                "peak_mb": peak_rss_mb(),
            }
        )
    )


def peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM (ru_maxrss on Linux keeps the parent's peak over exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(mode: str, folder: Path, rounds: int, profile: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", mode, str(folder), "--rounds", str(rounds)]
    if profile:
        cmd.append("--profile")
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} child failed:\n{done.stderr[-4000:]}")
    if profile:
        print(f"--- cProfile of one {mode} batch (tottime) ---\n{done.stderr[-3500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.rounds, args.profile)
        return

    print(
        f"worker: batches of {BATCH} photos, detector input {INPUT_SIZE}, "
        f"{args.rounds} measured rounds after a warm-up, {os.cpu_count()} CPUs"
    )
    print(
        f"  {'size':<10} {'MB/file':>7} {'worker ms/img':>15} {'Pillow ms/img':>15} "
        f"{'ratio':>6} {'prepare_image':>13} {'peak MB':>8} {'idle MB':>8}"
    )
    verdicts = []
    for width, height in SIZES:
        with tempfile.TemporaryDirectory(prefix="prelabel-worker-") as tmp:
            folder = Path(tmp)
            photos = make_photos(folder, width, height)
            mb = sum(p.stat().st_size for p in photos) / len(photos) / 1e6
            worker = run_child("worker", folder, args.rounds, args.profile)
            bare = run_child("baseline", folder, args.rounds, args.profile)
            prep = run_child("prepare", folder, args.rounds, args.profile)
        w_min, b_min = min(worker["cpu_ms"]), min(bare["cpu_ms"])
        ratio = w_min / b_min
        w_med = statistics.median(worker["cpu_ms"])
        b_med = statistics.median(bare["cpu_ms"])
        print(
            f"  {f'{width}x{height}':<10} {mb:>7.2f} {w_min:>6.1f} (med {w_med:>4.0f})"
            f" {b_min:>6.1f} (med {b_med:>4.0f}) {ratio:>6.2f} {min(prep['cpu_ms']):>13.1f}"
            f" {worker['peak_mb']:>8.0f} {worker['rss_before_mb']:>8.0f}"
        )
        verdicts.append(
            (
                f"{width}x{height}: worker/Pillow CPU ratio {ratio:.2f} <= {RATIO_TARGET}",
                ratio <= RATIO_TARGET,
            )
        )
        verdicts.append(
            (
                f"{width}x{height}: worker peak memory {worker['peak_mb']:.0f} MB <= "
                f"{MEMORY_TARGET_MB} MB (baseline child peak {bare['peak_mb']:.0f} MB)",
                worker["peak_mb"] <= MEMORY_TARGET_MB,
            )
        )
    print(
        "  worker ms/img: CPU of label_batch outside the endpoint, all threads, min (median) of"
        " rounds; Pillow: the bare decode + resize baseline; prepare_image: that function alone,"
        " one thread, on the same files; peak MB: the worker child's VmHWM; idle MB: its RSS"
        " after imports and client set-up, before the first batch"
    )
    print("Targets")
    for text, ok in verdicts:
        print(f"  [{'met' if ok else 'NOT MET'}] {text}")


if __name__ == "__main__":
    main()
