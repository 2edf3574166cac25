"""A review sample as the file a review tool takes as a job: Label Studio tasks with their
predictions, or a CVAT "COCO 1.0" annotations zip.

CVAT (`cvat`): CVAT's "Upload annotations" in COCO 1.0 takes a zip holding
`annotations/instances_<subset>.json` (or that JSON alone) and matches each COCO image to a
frame of the task by file name. The zip holds
    annotations/instances_default.json   the sample in COCO (the export's writer: score,
                                         detector class and model kept on each annotation)
    prelabel_export.json                 the manifest: each image's S3 object and `image`,
                                         `images/<file_name>`, where it goes to create the task
Label Studio (`labelstudio`): the export's Label Studio zip (tasks.json with predictions,
labeling_config.xml, the manifest), holding the sample's tasks only.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import IO

from prelabel.domain.entities import Project, Task
from prelabel.export_formats.coco import write_coco
from prelabel.export_formats.formats import ExportFormat, ExportSummary, file_slug
from prelabel.export_formats.manifest import Manifest
from prelabel.export_formats.streams import Archive
from prelabel.export_formats.writer import write_export

COCO_MEMBER = "annotations/instances_default.json"
IMAGES_FOLDER = "images"


class ReviewFileFormat(StrEnum):
    LABEL_STUDIO = "labelstudio"
    CVAT = "cvat"

    def filename(self, project_id: str) -> str:
        return f"{file_slug(project_id)}-review-{self.value}.zip"


def write_review_file(
    project: Project,
    tasks: Iterable[Task],
    fmt: ReviewFileFormat,
    sink: IO[bytes],
    created_at: str,
) -> ExportSummary:
    if fmt is ReviewFileFormat.LABEL_STUDIO:
        return write_export(project, tasks, ExportFormat.LABEL_STUDIO, sink, created_at)
    with Archive(sink) as archive, Manifest(project, ExportFormat.COCO, created_at) as manifest:

        def listed(task: Task, file_name: str) -> None:
            manifest.add_file(task, f"{IMAGES_FOLDER}/{file_name}", COCO_MEMBER)

        with archive.member(COCO_MEMBER) as out:
            tally = write_coco(project, tasks, out, created_at, on_image=listed)
        manifest.write(archive, tally)
    return ExportSummary(
        format=ExportFormat.COCO,
        project_id=project.ref.project_id,
        images=tally.images,
        annotations=tally.annotations,
        dropped_labels=tally.dropped_labels,
    )
