"""moto keeps S3 objects in memory; `--persist` saves them to a folder when the stack stops and
puts them back when it starts again.

    <folder>/<bucket>/index.json      [{"key", "content_type"}, ...]
    <folder>/<bucket>/objects/<sha256 of the key>

Files are named by a hash of the key, so no key (`a/../b`, `photos/`, a 1,000-byte name) can
write outside the folder or collide with another. A save is written next to the old one and
swapped in, so a crash during the save keeps the previous snapshot.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

INDEX = "index.json"


def _file_name(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def save_bucket(s3: Any, bucket: str, folder: Path) -> int:
    """Every object of `bucket` under `folder`/`bucket`; returns how many."""
    target = folder / bucket
    fresh = folder / f".{bucket}.saving"
    shutil.rmtree(fresh, ignore_errors=True)
    (fresh / "objects").mkdir(parents=True)
    index: list[dict[str, str]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for listed in page.get("Contents", []):
            key = listed["Key"]
            obj = s3.get_object(Bucket=bucket, Key=key)
            name = _file_name(key)
            (fresh / "objects" / name).write_bytes(obj["Body"].read())
            index.append({"key": key, "content_type": obj.get("ContentType", "")})
    (fresh / INDEX).write_text(json.dumps(index))
    old = folder / f".{bucket}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return len(index)


def restore_bucket(s3: Any, bucket: str, folder: Path) -> int:
    """The saved objects of `bucket` put back (none when nothing was saved); returns how many."""
    index_path = folder / bucket / INDEX
    if not index_path.is_file():
        return 0
    entries: list[dict[str, str]] = json.loads(index_path.read_text())
    for entry in entries:
        body = (folder / bucket / "objects" / _file_name(entry["key"])).read_bytes()
        extra = {"ContentType": entry["content_type"]} if entry.get("content_type") else {}
        s3.put_object(Bucket=bucket, Key=entry["key"], Body=body, **extra)
    return len(entries)


def save_buckets(s3: Any, buckets: Iterable[str], folder: Path) -> int:
    return sum(save_bucket(s3, bucket, folder) for bucket in buckets)


def restore_buckets(s3: Any, buckets: Iterable[str], folder: Path) -> int:
    return sum(restore_bucket(s3, bucket, folder) for bucket in buckets)
