"""What the jobs over reviewed labels work with besides the common job context: the reviewed
labels, tasks by id, the working files, the quality reports, the runs (their mappings), and
how much one step does."""

from __future__ import annotations

from dataclasses import dataclass, field

from prelabel.ports.quality_reports import QualityReports
from prelabel.ports.reviewed_files import ReviewedFiles
from prelabel.ports.reviewed_labels import ReviewedLabelStore
from prelabel.ports.runs import RunRepository
from prelabel.ports.task_facts import TaskFinder
from prelabel.reviewed import DEFAULT_LIMITS, ReadLimits


@dataclass(frozen=True, slots=True)
class ReviewLimits:
    """How much one step does. A slice of 2,000 images reads about 6,000 task and pre-label
    keys and 4,000 reviewed keys in BatchGetItems of 100 and writes in transactions of 40
    tasks: seconds. A quality slice of 2,000 reviewed tasks reads as many, and matches them at
    ~0.2 ms a task."""

    part_images: int = 2_000
    name_scan_tasks: int = 50_000
    quality_tasks: int = 2_000
    read: ReadLimits = DEFAULT_LIMITS


@dataclass
class ReviewPorts:
    reviewed: ReviewedLabelStore
    finder: TaskFinder
    files: ReviewedFiles
    reports: QualityReports
    runs: RunRepository
    limits: ReviewLimits = field(default_factory=ReviewLimits)
