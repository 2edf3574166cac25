"""`prelabel_export.json`, in every archive: what it holds, what it left out, and for every file
the image it belongs to.

Images are not in the archive (they stay in S3); each `files` entry says where the image goes
(`image`, relative to the archive's root: `JPEGImages/a.jpg`, `images/street/a.jpg`) and which
S3 object it is (`image_uri`, `bucket`, `image_key`), so a script can put every image in place.
Entries are spooled as they come and written last, so a manifest of a million images costs the
writer no memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prelabel.domain.entities import Project, Task
from prelabel.export_formats.common import Tally, has_size, image_uri
from prelabel.export_formats.formats import ExportFormat
from prelabel.export_formats.streams import Archive, Closing, JsonArraySpool, json_bytes

MANIFEST_NAME = "prelabel_export.json"
SKIPPED_REASON = "image size unknown: the image has not been pre-labeled yet"


def _models(task: Task) -> list[dict[str, str]]:
    seen = dict.fromkeys((label.model_name, label.model_version) for label in task.labels)
    return [{"name": name, "version": version} for name, version in seen]


class Manifest(Closing):
    def __init__(self, project: Project, fmt: ExportFormat, created_at: str) -> None:
        self._header = {
            "project_id": project.ref.project_id,
            "project_name": project.name,
            "format": fmt.value,
            "created_at": created_at,
        }
        self._files = JsonArraySpool(indent="    ")
        self._skipped = JsonArraySpool(indent="    ")

    def add_file(self, task: Task, image: str | None, annotation: str) -> None:
        """`image`: where the image goes in this layout (None where the format points at the
        S3 object itself); `annotation`: the archive's file that holds its labels."""
        self._files.append(
            {
                "task_id": task.task_id,
                "dataset_id": task.dataset_id,
                "image_uri": image_uri(task),
                "bucket": task.bucket,
                "image_key": task.image_key,
                "image": image,
                "annotation": annotation,
                # The detectors its pre-labels came from (YOLO's lines have no room for them).
                "models": _models(task),
                "review_priority": task.review_priority,
            }
        )

    def skip(self, task: Task) -> None:
        self._skipped.append(task.task_id)

    def sized(self, tasks: Iterable[Task], tally: Tally) -> Iterator[Task]:
        """The tasks whose image size is known, for formats that cannot do without it; the
        others are counted into `tally.skipped_images` and listed as skipped."""
        for task in tasks:
            if has_size(task):
                yield task
            else:
                tally.skipped_images += 1
                self.skip(task)

    def write(self, archive: Archive, tally: Tally) -> None:
        counts = {
            "images": tally.images,
            "annotations": tally.annotations,
            "skipped_images": tally.skipped_images,
            "dropped_labels": tally.dropped_labels,
        }
        with archive.member(MANIFEST_NAME) as out:
            out.write(b"{\n")
            for key, value in {**self._header, **counts}.items():
                out.write(b'  "' + key.encode() + b'": ' + json_bytes(value) + b",\n")
            out.write(b'  "skipped_reason": ' + json_bytes(SKIPPED_REASON) + b",\n")
            out.write(b'  "skipped_task_ids": ')
            self._skipped.write_array(out, closing_indent="  ")
            out.write(b',\n  "files": ')
            self._files.write_array(out, closing_indent="  ")
            out.write(b"\n}\n")

    def close(self) -> None:
        self._files.close()
        self._skipped.close()
