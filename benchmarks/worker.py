"""Batch worker CPU and memory: photos at two sizes, and a hostile batch of expensive images.

Run: .venv/bin/python benchmarks/worker.py [--rounds 3] [--profile] [--skip-photos]

(--profile: cProfile of one batch per child; the worker's pool threads are invisible to it,
so the single-threaded `prepare` child shows where the preprocessing time goes.)

Photos. For each size, 32 COCO photos are scaled and cropped to the size (plus a little
sensor-like noise so the JPEGs are as dense as camera files), saved at quality 90, every 4th one
stored sideways with EXIF orientation 6. Then, each in a fresh interpreter:

- worker: `BatchWorker.label_batch(BatchItem)` with the real adapters for everything that
  builds requests (S3ImageSource, SageMakerDetector, DynamoBatchStore.commit through pynamodb
  and botocore); only the network is replaced: a botocore `before-call` hook answers each
  request from memory (S3 GetObject reads the file from disk, InvokeEndpoint answers 6
  detections per image at once, TransactWriteItems answers success). Reads that need stored
  state (run, snapshot, limit, the batch's tasks, locations) are in-memory fakes.
- baseline: bare Pillow, `Image.open(f).convert("RGB").resize((416, 416 * h // w))`, no draft.
- prepare / before: `prepare_image` alone on one thread, now and as it was before tiles
  (read from git at commit 8f59791 and imported as a module of its own), on the same files.

Hostile batch. 32 files whose headers pass the checks but that are costly to decode: 7000x7000
RGBA, LA and 16-bit greyscale PNGs (smooth pictures, so they compress to a few hundred KB), a
6000x6000 palette PNG with transparency, 6000x4000 CMYK JPEGs, a 7000x7000 progressive JPEG,
a 16 MP WebP, a 1x1 PNG, and 4000x3000 photos (some EXIF-rotated). One batch each, in a fresh
interpreter, through: the code before (prepare_image per image on 8 threads, as the worker's
`_load` pool did), today's prepare_image on the same 8 threads without a budget,
`prepare_batch` with the default budget, and the worker's `label_batch` (which prepares
through `prepare_batch`). Then one
7000x7000 RGBA PNG alone, before and now.

CPU time is `time.process_time()` (all threads of the process) around the batch, min and median
of the rounds after one warm-up round (the hostile batch: one round, no warm-up). Peak memory is
the child's VmHWM (Pillow allocates outside tracemalloc). Prints figures; asserts nothing.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import ROOT, coco_photos

SIZES = [(1920, 1080), (4000, 3000)]
BATCH = 32
INPUT_SIZE = 416
RATIO_TARGET = 1.3
MEMORY_TARGET_MB = 512
# prepare_image's CPU on photos, now / before tiles.
PREPARE_RATIO_TARGET = 1.10
THREADS = 8
EXIF_ORIENTATION = 0x0112
# Side of the near-cap square images (49 MP, under the 50 MP header cap).
NEAR_CAP = 7000


# --- test photos ----------------------------------------------------------------------------


def make_photos(out: Path, width: int, height: int, count: int = BATCH) -> list[Path]:
    from PIL import Image, ImageChops, ImageOps

    paths = []
    for i, src in enumerate(coco_photos()[:count]):
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


def _smooth(size: tuple[int, int]) -> Any:
    """An RGBA picture of gradients and shapes: costly to decode, cheap to store as PNG."""
    from PIL import Image, ImageDraw

    grey = Image.linear_gradient("L").resize(size)
    ring = Image.radial_gradient("L").resize(size)
    draw = ImageDraw.Draw(ring)
    w, h = size
    for k in range(12):
        box = (k * w // 14, k * h // 16, k * w // 14 + w // 6, k * h // 16 + h // 8)
        draw.ellipse(box, fill=(k * 41) % 256)
    flipped = grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return Image.merge("RGBA", [grey, ring, flipped, ring.transpose(Image.Transpose.ROTATE_180)])


def make_hostile(out: Path) -> list[tuple[str, int, Path]]:
    """The hostile batch in `out`: (kind, copies, one of its files) for each kind."""
    from PIL import Image

    near = _smooth((NEAR_CAP, NEAR_CAP))
    smaller = _smooth((6000, 4000))
    grey16 = near.getchannel(0).convert("I").point(lambda v: v * 257).convert("I;16")
    palette = _smooth((6000, 6000)).convert("RGB").quantize(64)
    kinds: list[tuple[str, int, Any]] = [
        (f"rgba_{NEAR_CAP}.png", 4, lambda p: near.save(p)),
        (f"la_{NEAR_CAP}.png", 2, lambda p: near.convert("LA").save(p)),
        (f"grey16_{NEAR_CAP}.png", 2, lambda p: grey16.save(p)),
        ("palette_transparent_6000.png", 1, lambda p: palette.save(p, transparency=0)),
        ("cmyk_6000x4000.jpg", 2, lambda p: smaller.convert("CMYK").save(p, quality=90)),
        (
            f"progressive_{NEAR_CAP}.jpg",
            1,
            lambda p: near.convert("RGB").save(p, quality=90, progressive=True),
        ),
        ("webp_4000.webp", 1, lambda p: near.resize((4000, 4000)).save(p, quality=80)),
        ("pixel_1x1.png", 1, lambda p: Image.new("RGB", (1, 1), (200, 10, 10)).save(p)),
    ]
    made: list[tuple[str, int, Path]] = []
    for name, copies, make in kinds:
        first = out / f"h00_{name}"
        make(first)
        for k in range(1, copies):
            (out / f"h{k:02d}_{name}").write_bytes(first.read_bytes())
        made.append((name, copies, first))
    photos = make_photos(out, 4000, 3000, BATCH - sum(copies for _, copies, _ in made))
    made.append(("photo 4000x3000 (every 4th EXIF-rotated)", len(photos), photos[0]))
    return made


# --- the children ---------------------------------------------------------------------------


def short_circuit(client: Any, answer: Any) -> Any:
    """Answer every request of `client` in-process: serialization runs, the network does not."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    def before_call(model: Any, params: Any, **_: Any) -> Any:
        return AWSResponse("", 200, HTTPHeaders(), None), answer(model.name, params)

    client.meta.events.register("before-call", before_call)
    return client


def _run_in_memory() -> tuple[Any, Any, Any]:
    """The run the batch belongs to, its snapshot (5 classes mapped) and its project."""
    from prelabel.domain.detector_classes import COCO_CLASS_NAMES
    from prelabel.domain.entities import ProjectRef, Run, RunCounters, RunSnapshot, RunStatus
    from prelabel.domain.mapping import LabelMapping, MappingRow

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
    run = Run(ref, "run-1", RunStatus.RUNNING, RunCounters(total=BATCH), "2026-11-01T00:00:00Z")
    return ref, run, snapshot


def _stored_state(run: Any, snapshot: Any) -> dict[str, Any]:
    """The reads of stored state the worker makes (run, snapshot, limit, locations, crash
    notes, the batch's tasks), from memory; `Batches.commit` stays the real transaction build
    and send."""
    from prelabel.adapters.dynamodb.batches import DynamoBatchStore
    from prelabel.domain.locations import DataLocation, OrgLocations
    from prelabel.ports.labeling import TaskImage

    class Runs:
        def get(self, ref: Any, run_id: str) -> Any:
            return run

        def snapshot(self, ref: Any, run_id: str) -> Any:
            return snapshot

    class Limit:
        def remaining(self, org_id: str) -> int:
            return 1_000_000

    class Locations:
        def locations(self, org_id: str) -> OrgLocations:
            return OrgLocations(org_id, (DataLocation("bench-bucket", ""),))

    class NoCrashes:
        def suspect(self, run_id: str, batch_no: int) -> None:
            return None

    class Batches(DynamoBatchStore):
        def batch_committed(self, run_id: str, batch_no: int) -> bool:
            return False

        def batch_images(self, ref: Any, task_ids: Any) -> Any:
            return [TaskImage(t, "bench-bucket", t) for t in task_ids]

    return {
        "runs": Runs(),
        "ledger": Limit(),
        "locations": Locations(),
        "crash_log": NoCrashes(),
        "batches_class": Batches,
    }


def _answers(files: dict[str, Path]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """What S3 GetObject (the file's bytes) and InvokeEndpoint (six boxes an image) answer."""
    import io

    from botocore.response import StreamingBody

    from prelabel.detector_wire import Detection, ImageResult, encode_response
    from prelabel.domain.detector_classes import COCO_CLASS_NAMES

    names = dict(enumerate(COCO_CLASS_NAMES))
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

    return s3_answer, endpoint_answer


def worker_deps(files: dict[str, Path]) -> tuple[Any, Any]:
    import botocore.session
    from pynamodb.connection import Connection

    from prelabel.adapters.dynamodb.models import bind_tables
    from prelabel.adapters.s3_objects import S3ImageSource
    from prelabel.adapters.sagemaker_detector import SageMakerDetector
    from prelabel.ports.labeling import BatchItem
    from prelabel.services.labeling import BatchWorker, WorkerSettings
    from prelabel.settings import Settings

    settings = Settings(
        organizations_table="orgs", tasks_table="tasks", runs_table="runs", data_bucket="bench"
    )
    bind_tables(settings)
    ref, run, snapshot = _run_in_memory()
    stored = _stored_state(run, snapshot)
    s3_answer, endpoint_answer = _answers(files)
    session = botocore.session.get_session()
    s3 = short_circuit(session.create_client("s3", region_name="us-east-1"), s3_answer)
    runtime = short_circuit(
        session.create_client("sagemaker-runtime", region_name="us-east-1"), endpoint_answer
    )
    connection = Connection(region="us-east-1", host="http://127.0.0.1:9")
    short_circuit(connection.client, lambda operation, params: {})
    worker = BatchWorker(
        runs=stored["runs"],
        ledger=stored["ledger"],
        batches=stored["batches_class"](connection),
        crash_log=stored["crash_log"],
        images=S3ImageSource(lambda: s3),
        detector=SageMakerDetector(lambda: runtime, "bench-endpoint"),
        locations=stored["locations"],
        settings=WorkerSettings(input_size=INPUT_SIZE),
    )
    item = BatchItem(ref.org_id, ref.project_id, "run-1", 0, tuple(sorted(files)))
    return worker, item


def run_label_batch(worker: Any, item: Any) -> int:
    """One batch through the worker (its images prepared within the memory budget); how many
    images failed."""
    report = worker.label_batch(item)
    assert report.labeled + report.failed == len(item.task_ids), report
    return int(report.failed)


BASELINE_COMMIT = "8f59791"  # prepare_image before tiles and budgets


def baseline_module() -> Any:
    """`prelabel/imaging/preprocess.py` as it was at BASELINE_COMMIT, read from git and
    imported on its own, so before and after run in the same process on the same files."""
    import importlib.util
    import tempfile

    source = subprocess.run(
        ["git", "show", f"{BASELINE_COMMIT}:layers/prelabel/prelabel/imaging/preprocess.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="prelabel-baseline-")) / "preprocess_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("preprocess_before", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def batch_function(mode: str, files: dict[str, Path]) -> Callable[[], int]:
    """The batch a child measures; each call prepares every file and returns how many failed."""
    paths = list(files.values())
    if mode == "worker":
        # What the deployed function has loaded when a batch arrives.
        import prelabel.entrypoints.label_batch

        worker, item = worker_deps(files)
        return lambda: run_label_batch(worker, item)
    if mode == "baseline":
        from PIL import Image

        def bare() -> int:
            for path in paths:
                with Image.open(path) as im:
                    w, h = im.size
                    im.convert("RGB").resize((INPUT_SIZE, INPUT_SIZE * h // w))
            return 0

        return bare
    if mode.startswith("budget"):
        import prelabel.imaging.budget
        from prelabel.imaging.budget import DEFAULT_BUDGET_BYTES, ByteBudget, prepare_batch

        if mode == "budget-glibc-default":
            # Leave glibc's dynamic mmap threshold alone, to show what heap.py is for.
            prelabel.imaging.budget.return_freed_images = lambda: False

        def budgeted() -> int:
            blobs = [path.read_bytes for path in paths]
            budget = ByteBudget(DEFAULT_BUDGET_BYTES)
            results = prepare_batch(blobs, target=INPUT_SIZE, budget=budget, threads=THREADS)
            return sum(isinstance(r, str) for r in results)

        return budgeted
    _preprocess_before = baseline_module()

    import prelabel.imaging.preprocess

    module: Any = (
        _preprocess_before if mode in ("before", "threads-before") else prelabel.imaging.preprocess
    )

    def one(path: Path) -> int:
        try:
            module.prepare_image(path.read_bytes(), INPUT_SIZE)
        except module.ImageRejected:
            return 1
        return 0

    if mode.startswith("threads"):
        from concurrent.futures import ThreadPoolExecutor

        def pooled() -> int:
            # As the worker's `_load` pool did: every image at once, THREADS at a time.
            with ThreadPoolExecutor(max_workers=THREADS) as pool:
                return sum(pool.map(one, paths))

        return pooled
    return lambda: sum(one(path) for path in paths)


def child(mode: str, folder: Path, rounds: int, profile: bool) -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    files = {p.name: p for p in sorted(folder.iterdir()) if p.is_file()}
    batch = batch_function(mode, files)
    rss_before_mb = peak_rss_mb()
    if rounds > 0:
        batch()  # warm-up: first-use imports and clients, page cache
    cpu, wall, failed = [], [], 0
    for _ in range(max(rounds, 1)):
        start, started = time.process_time(), time.perf_counter()
        failed = batch()
        cpu.append((time.process_time() - start) * 1000 / len(files))
        wall.append(time.perf_counter() - started)
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
                "wall_s": wall,
                "failed": failed,
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


def photos_section(rounds: int, profile: bool, verdicts: list[tuple[str, bool]]) -> None:
    print(
        f"worker: batches of {BATCH} photos, detector input {INPUT_SIZE}, "
        f"{rounds} measured rounds after a warm-up, {os.cpu_count()} CPUs"
    )
    print(
        f"  {'size':<10} {'MB/file':>7} {'worker ms/img':>15} {'Pillow ms/img':>15} "
        f"{'ratio':>6} {'prepare_image':>13} {'before':>7} {'ratio':>6}"
        f" {'peak MB':>8} {'idle MB':>8}"
    )
    pooled = {
        (width, height): _photo_size(width, height, rounds, profile, verdicts)
        for width, height in SIZES
    }
    print(
        "  worker ms/img: CPU of label_batch outside the endpoint, all threads, min (median) of"
        " rounds; Pillow: the bare decode + resize baseline; prepare_image / before: that"
        " function alone, one thread, on the same files, now and before tiles (ratio now/before);"
        " peak MB: the worker child's VmHWM; idle MB: its RSS after imports and client set-up,"
        " before the first batch"
    )
    _pooled_table(pooled, verdicts)


def _photo_size(
    width: int, height: int, rounds: int, profile: bool, verdicts: list[tuple[str, bool]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One size's row (worker, bare Pillow, prepare_image now and before); the pooled
    children's results (prepare_batch, before on 8 threads) for the second table."""
    with tempfile.TemporaryDirectory(prefix="prelabel-worker-") as tmp:
        folder = Path(tmp)
        photos = make_photos(folder, width, height)
        mb = sum(p.stat().st_size for p in photos) / len(photos) / 1e6
        worker = run_child("worker", folder, rounds, profile)
        bare = run_child("baseline", folder, rounds, profile)
        prep = run_child("prepare", folder, rounds, profile)
        before = run_child("before", folder, rounds, profile)
        pooled = (
            run_child("budget", folder, rounds, profile),
            run_child("threads-before", folder, rounds, profile),
        )
    w_min, b_min = min(worker["cpu_ms"]), min(bare["cpu_ms"])
    ratio = w_min / b_min
    p_min, old_min = min(prep["cpu_ms"]), min(before["cpu_ms"])
    p_ratio = p_min / old_min
    w_med = statistics.median(worker["cpu_ms"])
    b_med = statistics.median(bare["cpu_ms"])
    print(
        f"  {f'{width}x{height}':<10} {mb:>7.2f} {w_min:>6.1f} (med {w_med:>4.0f})"
        f" {b_min:>6.1f} (med {b_med:>4.0f}) {ratio:>6.2f} {p_min:>13.1f} {old_min:>7.1f}"
        f" {p_ratio:>6.2f} {worker['peak_mb']:>8.0f} {worker['rss_before_mb']:>8.0f}"
    )
    size = f"{width}x{height}"
    verdicts.append(
        (f"{size}: worker/Pillow CPU ratio {ratio:.2f} <= {RATIO_TARGET}", ratio <= RATIO_TARGET)
    )
    verdicts.append(
        (
            f"{size}: prepare_image CPU now/before {p_ratio:.2f} <= {PREPARE_RATIO_TARGET}",
            p_ratio <= PREPARE_RATIO_TARGET,
        )
    )
    verdicts.append(
        (
            f"{size}: worker peak memory {worker['peak_mb']:.0f} MB <= "
            f"{MEMORY_TARGET_MB} MB (baseline child peak {bare['peak_mb']:.0f} MB)",
            worker["peak_mb"] <= MEMORY_TARGET_MB,
        )
    )
    return pooled


def _pooled_table(
    pooled: dict[tuple[int, int], tuple[dict[str, Any], dict[str, Any]]],
    verdicts: list[tuple[str, bool]],
) -> None:
    print(
        f"  {'size':<10} {'prepare_batch ms/img':>20} {'before x 8 threads':>18} {'ratio':>6}"
        f" {'peak MB':>8} {'before':>7}"
    )
    for (width, height), (batch, before) in pooled.items():
        b_min, old_min = min(batch["cpu_ms"]), min(before["cpu_ms"])
        print(
            f"  {f'{width}x{height}':<10} {b_min:>20.1f} {old_min:>18.1f} {b_min / old_min:>6.2f}"
            f" {batch['peak_mb']:>8.0f} {before['peak_mb']:>7.0f}"
        )
        verdicts.append(
            (
                f"{width}x{height}: prepare_batch CPU / before on 8 threads "
                f"{b_min / old_min:.2f} <= {PREPARE_RATIO_TARGET}",
                b_min / old_min <= PREPARE_RATIO_TARGET,
            )
        )
    print(
        "  prepare_batch: the batch with the default budget on 8 threads (fetch = reading the"
        " file); before x 8 threads: prepare_image before tiles on the worker's old 8-thread pool"
    )


HOSTILE_PATHS = [
    ("threads-before", "before: prepare_image x 8 threads"),
    ("threads", "prepare_image now x 8 threads"),
    ("budget-glibc-default", "prepare_batch, glibc heap untouched"),
    ("budget", "prepare_batch, default budget"),
    ("worker", "BatchWorker.label_batch (the worker)"),
]


def hostile_section(verdicts: list[tuple[str, bool]]) -> None:
    from prelabel.imaging.budget import DEFAULT_BUDGET_BYTES

    with tempfile.TemporaryDirectory(prefix="prelabel-hostile-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        kinds = make_hostile(folder)
        files = sorted(folder.iterdir())
        kb = sum(p.stat().st_size for p in files) / 1024
        print(
            f"\nhostile batch: {len(files)} files, {kb / 1024:.1f} MB in all (made in"
            f" {time.perf_counter() - started:.0f} s); one batch per fresh child, 8 threads,"
            f" default budget {DEFAULT_BUDGET_BYTES / 2**20:.0f} MB"
        )
        for name, copies, sample in kinds:
            print(f"  {copies:>2} x {name:<46} {sample.stat().st_size / 1024:>8.0f} KB")
        print(
            f"  {'path':<36} {'peak MB':>8} {'idle MB':>8} {'CPU ms/img':>10} {'wall s':>7}"
            f" {'failed':>6}"
        )
        results = _hostile_children(folder, HOSTILE_PATHS)
        alone = folder / "alone"
        alone.mkdir()
        (alone / "rgba.png").write_bytes((folder / f"h00_rgba_{NEAR_CAP}.png").read_bytes())
        print(f"one {NEAR_CAP}x{NEAR_CAP} RGBA PNG alone")
        single = _hostile_children(
            alone, [("before", "before: prepare_image"), ("prepare", "prepare_image now")]
        )
    _hostile_verdicts(results, single, verdicts)


def _hostile_children(folder: Path, paths: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """One batch of `folder` per path, each in a fresh child; a row each."""
    results = {}
    for mode, label in paths:
        got = run_child(mode, folder, 0, False)
        results[mode] = got
        print(
            f"  {label:<36} {got['peak_mb']:>8.0f} {got['rss_before_mb']:>8.0f}"
            f" {got['cpu_ms'][0]:>10.0f} {got['wall_s'][0]:>7.1f} {got['failed']:>6}"
        )
    return results


def _hostile_verdicts(
    results: dict[str, dict[str, Any]],
    single: dict[str, dict[str, Any]],
    verdicts: list[tuple[str, bool]],
) -> None:
    budget = results["budget"]["peak_mb"]
    verdicts.append(
        (
            f"hostile batch through prepare_batch: peak {budget:.0f} MB <= {MEMORY_TARGET_MB} MB"
            f" (before: {results['threads-before']['peak_mb']:.0f} MB)",
            budget <= MEMORY_TARGET_MB,
        )
    )
    worker = results["worker"]["peak_mb"]
    verdicts.append(
        (
            f"hostile batch through the worker's label_batch: peak {worker:.0f} MB <= "
            f"{MEMORY_TARGET_MB} MB",
            worker <= MEMORY_TARGET_MB,
        )
    )
    now, then = single["prepare"]["peak_mb"], single["before"]["peak_mb"]
    verdicts.append(
        (
            f"one {NEAR_CAP}x{NEAR_CAP} RGBA PNG: peak {now:.0f} MB <= {MEMORY_TARGET_MB // 2} MB"
            f" (before: {then:.0f} MB)",
            now <= MEMORY_TARGET_MB // 2,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--skip-photos", action="store_true", help="only the hostile batch")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.rounds, args.profile)
        return
    verdicts: list[tuple[str, bool]] = []
    if not args.skip_photos:
        photos_section(args.rounds, args.profile, verdicts)
    hostile_section(verdicts)
    print("Targets")
    for text, ok in verdicts:
        print(f"  [{'met' if ok else 'NOT MET'}] {text}")


if __name__ == "__main__":
    main()
