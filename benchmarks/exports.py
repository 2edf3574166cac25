"""Export memory and speed: `write_export` of N synthetic tasks in every format.

Run: .venv/bin/python benchmarks/exports.py [--sizes 10000 50000]

Tasks come from a generator (as the service reads them, page by page) with 3 boxes each on
1920x1080 images spread over 50 folders, and the export goes to a sink that counts the bytes
and drops them (as an upload stream would pass them on). For each format and N:

- time: wall seconds of the export without tracing, and tasks per second;
- peak: tracemalloc's peak of Python allocations during a second, traced export, in MB and
  per task;
- baseline: tracemalloc's peak of holding the N tasks in a list, measured in the same run:
  what any export that collects its tasks first (the former one did) needs before writing
  a byte. The ratio peak / baseline shows how much of that the streaming writers avoid.

What still grows with N is per-file bookkeeping: the set of names given and zipfile's record
of each entry (its name and sizes, kept to write the zip's directory at the end). Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Iterator

from prelabel.domain.entities import Box, Label, PrelabelState, Project, ProjectRef, Task
from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.export_formats import ExportFormat, write_export

REF = ProjectRef("org-bench", "prj_bench")
PROJECT = Project(
    REF,
    "Bench",
    (
        LabelEntry("veh", "Vehicle", Geometry.BBOX),
        LabelEntry("per", "Person", Geometry.BBOX),
        LabelEntry("ani", "Animal", Geometry.BBOX),
    ),
)
ENTRIES = ("veh", "per", "ani")


class CountingSink:
    """Takes bytes and keeps only their count; cannot seek, like an upload stream."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


def tasks(n: int) -> Iterator[Task]:
    for i in range(n):
        labels = tuple(
            Label(
                label_id=f"lbl-{i}-{j}",
                entry_id=ENTRIES[(i + j) % 3],
                entry_name="",
                box=Box(
                    float((i * 37 + j * 211) % 1700),
                    float((i * 53 + j * 97) % 900),
                    float((i * 37 + j * 211) % 1700 + 40 + j * 13),
                    float((i * 53 + j * 97) % 900 + 60 + j * 7),
                ),
                detector_class="car",
                score=0.5 + (i % 50) / 100,
                model_name="yolox-nano",
                model_version="0.1",
            )
            for j in range(3)
        )
        yield Task(
            project=REF,
            task_id=f"tsk_{i:08d}",
            dataset_id="ds_bench",
            bucket="bench-data",
            image_key=f"org-bench/photos/cam{i % 50:02d}/{i:08d}.jpg",
            prelabel_state=PrelabelState.DONE,
            labels=labels,
            image_width=1920,
            image_height=1080,
            prelabel_run_id="run_bench",
        )


def baseline_peak(n: int) -> int:
    tracemalloc.start()
    held = list(tasks(n))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del held
    return peak


def export_peak(n: int, fmt: ExportFormat) -> int:
    tracemalloc.start()
    write_export(PROJECT, tasks(n), fmt, CountingSink(), "2026-11-02T00:00:00+00:00")  # type: ignore[arg-type]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def export_time(n: int, fmt: ExportFormat) -> tuple[float, int]:
    sink = CountingSink()
    started = time.perf_counter()
    write_export(PROJECT, tasks(n), fmt, sink, "2026-11-02T00:00:00+00:00")  # type: ignore[arg-type]
    return time.perf_counter() - started, sink.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    args = parser.parse_args()
    mb = 1024 * 1024
    print(
        f"{'format':<12} {'tasks':>7} {'s':>6} {'tasks/s':>8} {'out MB':>7} "
        f"{'peak MB':>8} {'B/task':>7} {'baseline MB':>11} {'peak/base':>9}"
    )
    peaks: dict[tuple[ExportFormat, int], int] = {}
    for n in args.sizes:
        base = baseline_peak(n)
        for fmt in ExportFormat:
            seconds, size = export_time(n, fmt)
            peak = export_peak(n, fmt)
            peaks[fmt, n] = peak
            print(
                f"{fmt.value:<12} {n:>7} {seconds:>6.2f} {n / seconds:>8.0f} {size / mb:>7.1f} "
                f"{peak / mb:>8.2f} {peak / n:>7.0f} {base / mb:>11.1f} {peak / base:>9.3f}"
            )
    if len(args.sizes) > 1:
        small, large = min(args.sizes), max(args.sizes)
        print(f"\npeak growth from {small} to {large} tasks ({large / small:.0f}x the tasks):")
        for fmt in ExportFormat:
            print(f"  {fmt.value:<12} {peaks[fmt, large] / peaks[fmt, small]:.2f}x")


if __name__ == "__main__":
    main()
