"""What every reader shares: the images read so far, each image's boxes, and the report."""

from __future__ import annotations

from prelabel.reviewed.geometry import Malformed, finish
from prelabel.reviewed.model import (
    ImageRef,
    ReadBox,
    ReadLimits,
    ReviewedFileError,
    ReviewedImage,
)
from prelabel.reviewed.report import Finding, ReportBuilder


class Reading:
    """One file's images and report, as its reader finds them."""

    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.report = ReportBuilder()
        self.images: list[ReviewedImage] = []
        self._annotations = 0

    def expect(self, place: str, images: int = 0, annotations: int = 0) -> None:
        """Refuses the file before reading entries past the limits."""
        total = self.report.images_found + images
        if total > self.limits.max_images:
            raise ReviewedFileError(
                place, f"{total:,} images; at most {self.limits.max_images:,} per file"
            )
        self._annotations += annotations
        if self._annotations > self.limits.max_annotations:
            raise ReviewedFileError(
                place,
                f"{self._annotations:,} annotations; at most "
                f"{self.limits.max_annotations:,} per file",
            )

    def boxes(self, size: tuple[int, int] | None) -> ImageBoxes:
        return ImageBoxes(self, size)

    def image(self, ref: ImageRef, place: str, boxes: ImageBoxes) -> None:
        """The image with its boxes: one the file says people reviewed."""
        self.report.images_found += 1
        width, height = boxes.size if boxes.size else (None, None)
        self.images.append(
            ReviewedImage(ref, place, width, height, tuple(boxes.kept), boxes.dropped)
        )

    def skip_image(self, finding: Finding, example: str) -> None:
        """An image of the file that is not read on (malformed, not reviewed)."""
        self.report.images_found += 1
        self.report.add(finding, example)

    def drop_box(self, finding: Finding, example: str, count: int = 1) -> None:
        """Boxes that belong to no image read (their image is malformed or unknown)."""
        self.report.boxes_found += count
        self.report.add(finding, example, count)

    def malformed_box(self, exc: Malformed) -> None:
        self.drop_box(Finding.MALFORMED_BOX, str(exc))

    def not_a_box(self, example: str) -> None:
        self.report.add(Finding.NOT_A_BOX, example)


class ImageBoxes:
    """The boxes of one image, clipped to `size` where it is known."""

    def __init__(self, reading: Reading, size: tuple[int, int] | None) -> None:
        self._reading = reading
        self.size = size
        self.kept: list[ReadBox] = []
        self.dropped = 0

    def add(
        self,
        label: str,
        corners: tuple[float, float, float, float],
        place: str,
        *,
        rotated: bool = False,
        size: tuple[int, int] | None = None,
        entry_hint: str | None = None,
        crowd: bool = False,
        difficult: bool = False,
    ) -> None:
        """A box at `corners` (x1, y1, x2, y2 in pixels); `size` where the box states its own
        image size (Label Studio's results)."""
        report = self._reading.report
        if len(self.kept) >= self._reading.limits.max_boxes_per_image:
            self.drop(Finding.TOO_MANY_BOXES, place)
            return
        done = finish(corners, size or self.size)
        if done.box is None:
            self.drop(done.finding or Finding.EMPTY_BOX, place)
            return
        report.boxes_found += 1
        if done.finding is not None:
            report.add(done.finding, place)
        if rotated:
            report.add(Finding.ROTATED, place)
        self.kept.append(
            ReadBox(label, done.box, place, entry_hint, crowd=crowd, difficult=difficult)
        )

    def drop(self, finding: Finding, example: str) -> None:
        self.dropped += 1
        self._reading.drop_box(finding, example)

    def malformed(self, exc: Malformed) -> None:
        self.drop(Finding.MALFORMED_BOX, str(exc))
