"""Where reviewed-label files and the working files of their jobs live in the data bucket:
under the organization's own folder, `<org>/reviewed/<project>/`, so the location rules that
guard every other path guard these too. Pure rules, no storage."""

from __future__ import annotations

import re

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import InvalidInput

MAX_FILE_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def review_folder(ref: ProjectRef) -> str:
    return f"{ref.org_id}/reviewed/{ref.project_id}/"


def upload_key(ref: ProjectRef, upload_id: str, file_name: str) -> str:
    return f"{review_folder(ref)}{upload_id}/{file_name}"


def work_prefix(ref: ProjectRef, job_id: str) -> str:
    """A job's working files (the file read into slices, slice reports, partial tallies)."""
    return f"{review_folder(ref)}{job_id}/"


def safe_file_name(name: str) -> str:
    """The file name as a key's last segment: path parts dropped, anything but letters,
    digits, `.`, `_` and `-` turned into `_`; InvalidInput when nothing is left."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    cleaned = _UNSAFE.sub("_", last).strip("._")[-MAX_FILE_NAME_CHARS:]
    if not cleaned:
        raise InvalidInput(f"file_name: {name[:80]!r} names no file", field="file_name")
    return cleaned
