"""Matching one slice of a reviewed-labels file to the project's tasks and storing what it
matched: what every matching step of an import does (reviewed_step.py holds the phases).

Writes are idempotent: a stored review names its job and image, so a slice written twice (a
retried step) finds its own reviews and writes nothing again, and an image of the file naming a
task that another image of the same file took already is a duplicate, whichever step met it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from prelabel.domain.entities import ProjectRef
from prelabel.domain.jobs import Job
from prelabel.domain.reviewed_labels import TaskReview
from prelabel.reviewed import (
    KeyQuery,
    LabelMatcher,
    MatchedImage,
    ReviewReport,
    SliceMatch,
    match_images,
)
from prelabel.reviewed.report import Finding, ReportBuilder
from prelabel.services.jobs.context import JobContext
from prelabel.services.jobs.reviewed_lookup import StoredTasks
from prelabel.services.jobs.reviewed_parts import NumberedImage


@dataclass(frozen=True)
class Matcher:
    """The project's entries and tasks as one step sees them."""

    ctx: JobContext
    job: Job
    labels: LabelMatcher
    fmt: str

    @classmethod
    def of(cls, ctx: JobContext, job: Job, fmt: str) -> Matcher:
        project = ctx.projects.get(job.project)
        return cls(ctx, job, LabelMatcher(project.label_config), fmt)

    @property
    def ref(self) -> ProjectRef:
        return self.job.project

    def lookup(self, names: Mapping[str, Sequence[str]] | None = None) -> StoredTasks:
        ref = self.ref
        return StoredTasks(
            self.ctx.review.finder,
            ref,
            self.ctx.datasets.list_datasets(ref),
            self.ctx.locations.locations(ref.org_id),
            names,
        )

    def store(self, images: Sequence[NumberedImage], lookup: StoredTasks) -> ReviewReport:
        """Match and store a slice of images; its report (duplicates counted as such)."""
        match = match_images([n.image for n in images], lookup, self.labels)
        ordinal = {id(n.image): n.ordinal for n in images}
        reviews = [self._review(m, ordinal[id(m.image)]) for m in match.images]
        written = self.ctx.review.reviewed.put(self.ref, reviews)
        return _without(match, set(written.duplicates), set(written.gone))

    def _review(self, m: MatchedImage, source: int) -> TaskReview:
        # The job's start is the import's time: a retried step writes the same item.
        return TaskReview(
            m.task_id, m.labels, self.fmt, self.job.job_id, self.job.created_at, source, m.dropped
        )


def queries_of(image: NumberedImage) -> list[KeyQuery]:
    ref = image.image.ref
    if not ref.key:
        return []
    return [(None, ref.key)] + ([(ref.bucket, ref.key)] if ref.bucket else [])


def split_by_key(
    images: Sequence[NumberedImage], lookup: StoredTasks
) -> tuple[list[NumberedImage], list[NumberedImage]]:
    """Images some key of theirs finds a task for (matched now), and those only a file name
    might find (left for the file-name pass, which reads the project's task keys)."""
    found = lookup.tasks_by_key({q for i in images for q in queries_of(i)})
    now: list[NumberedImage] = []
    later: list[NumberedImage] = []
    for image in images:
        by_key = any(q in found for q in queries_of(image))
        (later if not by_key and image.image.ref.file_name else now).append(image)
    return now, later


def _without(match: SliceMatch, duplicates: set[str], gone: set[str]) -> ReviewReport:
    """The slice's report, with the images storage found to duplicate an earlier slice's, or
    whose task was deleted since it was matched, counted as such instead of imported."""
    if not duplicates and not gone:
        return match.report
    why = dict.fromkeys(gone, Finding.TASK_REMOVED) | dict.fromkeys(
        duplicates, Finding.DUPLICATE_IMAGE
    )
    builder = ReportBuilder()
    builder.merge(match.report)
    for m in match.images:
        finding = why.get(m.task_id)
        if finding is None:
            continue
        builder.images_matched -= 1
        builder.boxes_kept -= len(m.labels)
        builder.add(finding, m.image.ref.written)
        if m.labels:
            builder.add(Finding.IMAGE_NOT_IMPORTED, m.image.ref.written, len(m.labels))
    return builder.build()
