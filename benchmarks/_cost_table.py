"""The printed end of workflow_cost.py: the table of batch size x LabelBatch memory it picks the
template's defaults from, and the bill before and after, item by item (_cost_model.py)."""

from __future__ import annotations

from dataclasses import dataclass

from _cost_model import RunShape, batch_seconds, bill, cost_per_k, endpoint_seconds, fits
from _worker_profile import WorkerFigures

# The defaults before issue 23: batches of 32 on a 1,024 MB worker.
BEFORE = (32, 1024)


@dataclass(frozen=True)
class Pick:
    batch_size: int
    memory_mb: int
    usd_per_k: float
    own_seconds: float  # the worker's own time per batch: WorkerSecondsPerBatch


def print_profile(figures: dict[int, WorkerFigures]) -> None:
    print(
        "\n[Worker] the LabelBatch handler in a warm child process, per batch (medians; CPU "
        "of every thread by getrusage, the endpoint not included; peak RSS of the process)"
    )
    print(
        f"  {'batch':>5} {'CPU s':>7} {'CPU ms/img':>10} {'wall s here':>11} {'peak MB':>8}"
        f" {'DynamoDB req':>12} {'RRU':>6} {'S3 GET':>7} {'endpoint calls':>14}"
    )
    for n, w in sorted(figures.items()):
        print(
            f"  {n:>5} {w.cpu_s:>7.3f} {1000 * w.cpu_s / n:>10.2f} {w.wall_s:>11.2f}"
            f" {w.peak_mb:>8.0f} {w.dynamodb_requests:>12.0f} {w.read_units:>6.0f}"
            f" {w.s3_gets:>7.0f} {w.endpoint_calls:>14.0f}"
        )


def print_table(
    shape: RunShape,
    figures: dict[int, WorkerFigures],
    memories: list[int],
    gpu: tuple[float, float] | None,
) -> Pick:
    """USD per 1,000 images (and ms per image) for each batch size and memory; the cheapest
    that fits is the pick."""
    rate = f"a GPU at {gpu[0]:g} img/s" if gpu else "this CPU's endpoint"
    print(
        f"\n[Table] USD per 1,000 images (worker ms per image), {shape.images}-image runs, "
        f"endpoint: {rate}; x: under 1.25 x the peak (hostile batch: 397 MB) or over 60 s"
    )
    print("  batch" + "".join(f"{f'{m} MB':>22}" for m in memories))
    best: Pick | None = None
    for n, w in sorted(figures.items()):
        cells = []
        for m in memories:
            own, seconds = batch_seconds(w, m, endpoint_seconds(w, gpu[0] if gpu else None))
            usd = cost_per_k(bill(shape, w, m, gpu))
            ok = fits(w, m, seconds)
            cells.append(f"{'' if ok else 'x '}{usd:.5f} ({1000 * seconds / n:5.1f})")
            if ok and (best is None or usd < best.usd_per_k):
                best = Pick(n, m, usd, own)
        print(f"  {n:>5}" + "".join(f"{c:>22}" for c in cells))
    if best is None:
        raise SystemExit("no batch size and memory fits")
    print(
        f"  pick: batch size {best.batch_size}, {best.memory_mb} MB: ${best.usd_per_k:.5f} per "
        f"1,000 images; the worker's own time per batch {best.own_seconds:.2f} s "
        f"(WorkerSecondsPerBatch)"
    )
    return best


def print_bills(
    shape: RunShape,
    figures: dict[int, WorkerFigures],
    columns: list[tuple[str, int, int]],
    gpu: tuple[float, float] | None,
) -> list[float]:
    """Item by item, one column per (title, batch size, memory); the totals, in that order."""
    bills = [bill(shape, figures[n], m, gpu) for _, n, m in columns]
    print("\nPer 1,000 images (list prices us-east-1; PRICES at the top of workflow_cost.py)")
    head = "".join(f"{f'{t} ({n}, {m} MB)':>34}" for t, n, m in columns)
    print(f"  {'item':<32}{head}")
    for i, (what, _, _) in enumerate(bills[0]):
        cells = "".join(f"{b[i][1]:>14.2f} {b[i][2]:>10.5f} {'':>8}" for b in bills)
        print(f"  {what:<32}{cells}")
    totals = [cost_per_k(b) for b in bills]
    print(f"  {'total':<32}" + "".join(f"{'':>14} {t:>10.5f} {'':>8}" for t in totals))
    return totals
