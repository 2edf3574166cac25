"""`prelabel_export.json`, in every archive: what it holds, what it left out, and for every file
the image it belongs to.

Images are not in the archive (they stay in S3); each `files` entry says where the image goes
(`image`, relative to the archive's root: `JPEGImages/a.jpg`, `images/street/a.jpg`) and which
S3 object it is (`image_uri`, `bucket`, `image_key`), so a script can put every image in place.
Entries are spooled as they come and written last, so a manifest of a million images costs the
writer no memory.
"""

from __future__ import annotations

from prelabel.domain.entities import Project, Task
from prelabel.export_formats.common import Tally, image_uri
from prelabel.export_formats.formats import ExportFormat
from prelabel.export_formats.streams import Archive, Closing, StreamSpool, json_bytes, json_list

MANIFEST_NAME = "prelabel_export.json"
SKIPPED_REASON = "image size unknown: the image has not been pre-labeled yet"
# The manifest's two lists, indented inside it.
SKIPPED = json_list("skipped_task_ids", b"\n  ]", b"]")
FILES = json_list("files", b"\n  ]", b"]")


def file_item(task: Task, image: str | None, annotation: str) -> bytes:
    """`image`: where the image goes in this layout (None where the format points at the S3
    object itself); `annotation`: the archive's file that holds its labels."""
    entry = {
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
    return b"\n    " + json_bytes(entry)


def skipped_item(task: Task) -> bytes:
    return b"\n    " + json_bytes(task.task_id)


def manifest_header(project: Project, fmt: ExportFormat, created_at: str) -> dict[str, str]:
    return {
        "project_id": project.ref.project_id,
        "project_name": project.name,
        "format": fmt.value,
        "created_at": created_at,
    }


def manifest_texts(header: dict[str, str], tally: Tally) -> tuple[bytes, bytes, bytes]:
    """The manifest's text before its skipped list, between that and its files list, and after."""
    fields = b"".join(
        b'  "' + key.encode() + b'": ' + json_bytes(value) + b",\n"
        for key, value in {**header, **tally.counts()}.items()
    )
    reason = b'  "skipped_reason": ' + json_bytes(SKIPPED_REASON) + b",\n"
    return b"{\n" + fields + reason + b'  "skipped_task_ids": ', b',\n  "files": ', b"\n}\n"


def _models(task: Task) -> list[dict[str, str]]:
    seen = dict.fromkeys((label.model_name, label.model_version) for label in task.labels)
    return [{"name": name, "version": version} for name, version in seen]


class Manifest(Closing):
    def __init__(self, project: Project, fmt: ExportFormat, created_at: str) -> None:
        self._header = manifest_header(project, fmt, created_at)
        self._files = StreamSpool(FILES)
        self._skipped = StreamSpool(SKIPPED)

    def add_file(self, task: Task, image: str | None, annotation: str) -> None:
        self._files.append(file_item(task, image, annotation))

    def skip(self, task: Task) -> None:
        self._skipped.append(skipped_item(task))

    def write(self, archive: Archive, tally: Tally) -> None:
        head, middle, tail = manifest_texts(self._header, tally)
        with archive.member(MANIFEST_NAME) as out:
            out.write(head)
            self._skipped.write_framed(out)
            out.write(middle)
            self._files.write_framed(out)
            out.write(tail)

    def close(self) -> None:
        self._files.close()
        self._skipped.close()
