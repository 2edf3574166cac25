"""A batch of images is prepared concurrently without ever holding more than its byte budget."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

import pytest
from PIL import Image

from prelabel.domain.errors import StorageError
from prelabel.imaging.budget import ByteBudget, prepare_batch
from prelabel.imaging.preprocess import PreparedImage, open_image
from prelabel.ports.images import ImageUnavailable

MB = 1024 * 1024


def _png(mode: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "white").save(out, "PNG")
    return out.getvalue()


def _jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 90, 200)).save(out, "JPEG")
    return out.getvalue()


def _need(data: bytes) -> int:
    return len(data) + open_image(data, 416).decode_bytes


class Recorder:
    """Observes a budget: every (used, holders) it went through."""

    def __init__(self) -> None:
        self.states: list[tuple[int, int]] = []

    def __call__(self, used: int, holders: int) -> None:
        self.states.append((used, holders))


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def _blob(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def test_concurrent_decodes_never_exceed_the_budget() -> None:
    # Given 16 images, 6 of them big RGBA PNGs that each need about 40% of a 100 MB budget
    big = _png("RGBA", (2000, 2000))
    small = _jpeg((640, 480))
    assert 0.3 * 100 * MB < _need(big) < 0.5 * 100 * MB
    images = [big if i % 3 == 0 else small for i in range(16)]
    recorder = Recorder()
    budget = ByteBudget(100 * MB, recorder)
    # When they are prepared on 8 threads
    results = prepare_batch(
        [_blob(d) for d in images], target=416, budget=budget, threads=8, max_file_bytes=MB
    )
    # Then every image is prepared, several at a time, never holding more than the budget
    assert all(isinstance(r, PreparedImage) for r in results)
    assert max(holders for _, holders in recorder.states) >= 2
    assert max(used for used, _ in recorder.states) <= 100 * MB
    # And never more than two big images at once: three would not fit
    assert max(used for used, _ in recorder.states) < 3 * _need(big)
    assert budget.used == 0


def test_an_image_larger_than_the_budget_runs_alone() -> None:
    # Given a batch where one image needs far more than the whole 8 MB budget, and small images
    # that are still being fetched (holding their fetch reservation) when it has been read
    huge = _png("RGBA", (2000, 2000))
    small = _jpeg((300, 200))
    assert _need(huge) > 8 * MB
    recorder = Recorder()
    budget = ByteBudget(8 * MB, recorder)
    huge_read = threading.Event()

    def fetch_huge() -> bytes:
        return huge

    def fetch_small() -> bytes:
        # Not back before the huge image got its room or queued for it.
        _until(
            lambda: huge_read.is_set() or budget.used > 8 * MB or budget.waiting > 0,
            "the huge image to be read",
        )
        huge_read.set()
        return small

    blobs = [fetch_small] * 2 + [fetch_huge] + [fetch_small] * 12
    # When the batch is prepared on 4 threads
    results = prepare_batch(blobs, target=416, budget=budget, threads=4, max_file_bytes=MB)
    # Then it is prepared too, and whenever more than the budget was held, it was alone
    assert all(isinstance(r, PreparedImage) for r in results)
    over = [(used, holders) for used, holders in recorder.states if used > 8 * MB]
    assert over, "the huge image never got its whole need"
    assert all(holders == 1 for _, holders in over)


def test_results_come_back_in_input_order() -> None:
    # Given 6 images of different widths, the first one finishing its fetch last
    widths = [100, 200, 300, 400, 500, 600]
    images = [_jpeg((w, 50)) for w in widths]
    last_fetched = threading.Event()

    def first() -> bytes:
        last_fetched.wait(timeout=10)
        return images[0]

    def last() -> bytes:
        last_fetched.set()
        return images[-1]

    blobs = [first, *[_blob(d) for d in images[1:-1]], last]
    # When they are prepared on 6 threads
    results = prepare_batch(
        blobs, target=416, budget=ByteBudget(64 * MB), threads=6, max_file_bytes=MB
    )
    # Then result i belongs to image i
    assert [r.width for r in results if isinstance(r, PreparedImage)] == widths


def test_images_that_cannot_be_read_give_their_reason_and_the_rest_are_prepared() -> None:
    # Given a batch with a missing object, a file that is not an image and a file too large
    def missing() -> bytes:
        raise ImageUnavailable("image not readable from S3 (NoSuchKey)")

    good = _jpeg((640, 480))
    blobs = [_blob(good), missing, _blob(b"not an image at all"), _blob(good * 40), _blob(good)]
    budget = ByteBudget(64 * MB)
    # When it is prepared, with files limited to 20 times a good one's size
    results = prepare_batch(
        blobs, target=416, budget=budget, threads=3, max_file_bytes=20 * len(good)
    )
    # Then each bad image gets the reason its task will fail with, the good ones are prepared
    assert isinstance(results[0], PreparedImage)
    assert results[1] == "image not readable from S3 (NoSuchKey)"
    assert isinstance(results[2], str) and results[2].startswith("not a readable image")
    assert results[3] == f"file too large: {40 * len(good)} bytes (limit {20 * len(good)})"
    assert isinstance(results[4], PreparedImage)
    # And nothing stays reserved
    assert budget.used == 0


def test_a_storage_error_stops_the_batch_without_fetching_the_rest() -> None:
    # Given a batch whose second fetch fails for a reason that is not the image's
    fetched: list[int] = []

    def blob(i: int) -> Callable[[], bytes]:
        def fetch() -> bytes:
            fetched.append(i)
            if i == 1:
                raise StorageError("reading s3://b/k failed: SlowDown")
            return _jpeg((64, 64))

        return fetch

    budget = ByteBudget(64 * MB)
    # When it is prepared one image at a time
    with pytest.raises(StorageError):
        prepare_batch([blob(i) for i in range(6)], target=416, budget=budget, threads=1)
    # Then the error surfaces (the batch is retried), the later images were never fetched,
    # and nothing stays reserved
    assert fetched == [0, 1]
    assert budget.used == 0


def test_an_image_that_needs_more_room_than_is_free_waits_empty_handed_and_is_read_again() -> None:
    # Given a budget mostly taken by someone else, and an image that needs more than what is
    # left once it is read
    big = _png("RGBA", (1500, 1500))
    budget = ByteBudget(_need(big) + 2 * MB)
    other = budget.reserve(_need(big))
    reads: list[int] = []

    def fetch() -> bytes:
        reads.append(1)
        return big

    results: list[PreparedImage | str] = []
    worker = threading.Thread(
        target=lambda: results.extend(
            prepare_batch([fetch], target=416, budget=budget, threads=1, max_file_bytes=MB)
        )
    )
    # When the image is prepared
    worker.start()
    # Then, read once, it gives its bytes back and queues for its whole need, holding nothing
    _until(lambda: len(reads) == 1 and budget.waiting == 1, "the image to queue")
    assert budget.used == _need(big)
    # And once the room is free it is read again and prepared
    other.release()
    worker.join(timeout=10)
    assert len(reads) == 2
    assert isinstance(results[0], PreparedImage)
    assert budget.used == 0


def test_the_budget_serves_first_come_first_served() -> None:
    # Given a budget of 100 bytes, 90 of them held
    budget = ByteBudget(100)
    held = budget.reserve(90)
    granted: list[str] = []

    def take(name: str, nbytes: int) -> None:
        budget.reserve(nbytes)
        granted.append(name)

    # When a request for 50 bytes queues, then one for 5 bytes that would fit right now
    big = threading.Thread(target=take, args=("big", 50))
    big.start()
    _until(lambda: budget.waiting == 1, "the big request to queue")
    small = threading.Thread(target=take, args=("small", 5))
    small.start()
    # Then the small one waits behind the big one instead of overtaking it
    _until(lambda: budget.waiting == 2, "the small request to queue behind")
    assert granted == []
    # And when the room frees up they are served in the order they came
    held.release()
    big.join(timeout=10)
    small.join(timeout=10)
    assert granted == ["big", "small"]
    assert budget.used == 55
