"""Prepare a batch of untrusted images concurrently without exceeding a memory budget.

Each image reserves bytes before it allocates them: first the most a fetch may return, then,
once the header is read, exactly its file's bytes plus what decoding it will take
(`OpenedImage.decode_bytes`). Reservations come from one FIFO byte semaphore, so two images
that each take most of the budget are decoded one after the other, and an image that needs
more than the whole budget waits until nothing else is held and then runs alone.

A thread never waits while it holds bytes: when an image needs more than it reserved and the
room is not there now, it gives everything back, waits for the whole amount with nothing held,
and reads the file again. Waiting while holding could leave every thread holding a file and
waiting for room the others hold.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor

from prelabel.imaging.heap import return_freed_images
from prelabel.imaging.preprocess import (
    MAX_BYTES,
    ImageRejected,
    OpenedImage,
    PreparedImage,
    finish,
    open_image,
)
from prelabel.ports.images import ImageUnavailable

# What the batch worker may hold for images at once. Measured with benchmarks/worker.py: the
# worker's own footprint (about 70 MB idle) plus this budget peaks near 400 MB on the hostile
# batch, under the 512 MB target; a near-cap RGBA PNG (about 215 MB) fits with room to fetch.
DEFAULT_BUDGET_BYTES = 320 * 1024 * 1024
# Reads of one image before it is given up (more than one only when the file changes between
# reads, or it needed more room than was free and was read again after waiting for it).
MAX_READS = 3

Observer = Callable[[int, int], None]


class ByteBudget:
    """A weighted FIFO semaphore over bytes, safe to share between threads.

    Invariant: `used <= capacity`, or a single reservation is held (one that needed more than
    the whole budget, granted only when nothing else was held). `observer(used, holders)` is
    called under the lock after every change.
    """

    def __init__(self, capacity: int, observer: Observer | None = None) -> None:
        if capacity <= 0:
            raise ValueError(f"a budget needs a positive capacity, not {capacity}")
        self.capacity = capacity
        self._observer = observer
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._used = 0
        self._holders = 0
        self._peak = 0

    @property
    def used(self) -> int:
        return self._used

    @property
    def waiting(self) -> int:
        """Reservations queued for room."""
        return len(self._queue)

    @property
    def peak(self) -> int:
        """The most bytes reserved at once so far."""
        return self._peak

    def reserve(self, nbytes: int) -> Reservation:
        """Wait for `nbytes` (first come, first served) and hold them."""
        if nbytes < 0:
            raise ValueError(f"cannot reserve {nbytes} bytes")
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            try:
                while self._queue[0] is not ticket or not self._fits(nbytes, self._holders):
                    self._cond.wait()
            finally:
                self._queue.remove(ticket)
                # The next in line may fit too (or may now be first).
                self._cond.notify_all()
            self._change(nbytes, 1)
        return Reservation(self, nbytes)

    def _fits(self, nbytes: int, others: int) -> bool:
        return self._used + nbytes <= self.capacity or others == 0

    def _resize(self, held: int, nbytes: int) -> bool:
        with self._cond:
            if nbytes > held and not self._fits(nbytes - held, self._holders - 1):
                return False
            self._change(nbytes - held, 0)
            if nbytes < held:
                self._cond.notify_all()
            return True

    def _release(self, held: int) -> None:
        with self._cond:
            self._change(-held, -1)
            self._cond.notify_all()

    def _change(self, nbytes: int, holders: int) -> None:
        self._used += nbytes
        self._holders += holders
        self._peak = max(self._peak, self._used)
        if self._observer is not None:
            self._observer(self._used, self._holders)


class Reservation:
    """Bytes held in a `ByteBudget` until `release` (idempotent)."""

    def __init__(self, budget: ByteBudget, nbytes: int) -> None:
        self._budget = budget
        self.nbytes = nbytes
        self._held = True

    def resize(self, nbytes: int) -> bool:
        """Hold `nbytes` instead: shrinking always works, growing only if there is room now."""
        if not self._held:
            raise RuntimeError("the reservation was released")
        if self._budget._resize(self.nbytes, nbytes):
            self.nbytes = nbytes
            return True
        return False

    def release(self) -> None:
        if self._held:
            self._held = False
            self._budget._release(self.nbytes)


def prepare_batch(
    blobs: Sequence[Callable[[], bytes]],
    *,
    target: int,
    budget: ByteBudget,
    threads: int,
    max_file_bytes: int = MAX_BYTES,
    quality: int = 90,
) -> list[PreparedImage | str]:
    """Fetch and prepare every image, at most `threads` at once and within `budget`.

    Each blob returns one image's bytes (it may be called again, see the module's note) or
    raises `ImageUnavailable`; `max_file_bytes` is the most one may return, and is reserved
    while it runs. The result holds, in input order, the prepared image or the reason it
    cannot be pre-labeled. Any other exception from a blob stops the batch: images not started
    yet are not fetched, and the first such exception is raised. The first call tunes glibc so
    freed image memory leaves the process (`prelabel.imaging.heap`).
    """
    if not blobs:
        return []
    return_freed_images()
    stopped = threading.Event()

    def one(blob: Callable[[], bytes]) -> PreparedImage | str:
        # Images are started in input order, so one stopped here comes after the failed one.
        if stopped.is_set():
            raise CancelledError
        try:
            return _prepare_one(blob, target, budget, max_file_bytes, quality)
        except BaseException:
            stopped.set()
            raise

    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(blobs)))) as pool:
        futures: list[Future[PreparedImage | str]] = [pool.submit(one, blob) for blob in blobs]
        try:
            return [future.result() for future in futures]
        except BaseException:
            stopped.set()
            for future in futures:
                future.cancel()
            raise


def _prepare_one(
    blob: Callable[[], bytes], target: int, budget: ByteBudget, max_file_bytes: int, quality: int
) -> PreparedImage | str:
    read = _read_within(blob, target, budget, max_file_bytes)
    if isinstance(read, str):
        return read
    opened, reservation = read
    try:
        return finish(opened, quality)  # closes the image: its pixels and file bytes go
    except ImageRejected as exc:
        return str(exc)
    finally:
        reservation.release()


def _read_within(
    blob: Callable[[], bytes], target: int, budget: ByteBudget, max_file_bytes: int
) -> tuple[OpenedImage, Reservation] | str:
    """The opened image and a reservation of its file and decode bytes, or the reason."""
    reservation = budget.reserve(max_file_bytes)
    try:
        for _ in range(MAX_READS):
            data = blob()
            if len(data) > max_file_bytes:
                raise ImageUnavailable(
                    f"file too large: {len(data)} bytes (limit {max_file_bytes})"
                )
            opened = open_image(data, target)
            need = len(data) + opened.decode_bytes
            if reservation.resize(need):
                return opened, reservation
            del data, opened
            reservation.release()
            reservation = budget.reserve(need)
        raise ImageUnavailable(f"the file changed while it was read ({MAX_READS} reads)")
    except (ImageUnavailable, ImageRejected) as exc:
        reservation.release()
        return str(exc)
    except BaseException:
        reservation.release()
        raise
