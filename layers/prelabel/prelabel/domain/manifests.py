"""Manifest lines -> the objects they name. Pure.

- SageMaker Ground Truth input manifest: JSON Lines, one object per line, the image in
  `"source-ref": "s3://bucket/key"` (the key as it is, not encoded). Other members are ignored.
- S3 Inventory CSV: `bucket,key[,size,...]` per line. Inventory writes the key URL-encoded
  (a space as `+`), so it is decoded here; a third column that is a whole number is the size
  (an inventory configured with Size as its first optional field), anything else there is
  ignored and the size is left unknown.

A line that names no S3 object is reported (`NOT_AN_OBJECT`) with its first characters.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from urllib.parse import unquote_plus

from prelabel.domain.imports import ManifestFormat, ObjectRef
from prelabel.domain.locations import BUCKET_PATTERN

SHOWN_LINE_CHARS = 200


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that names no object; `text` is its start, for the report's examples."""

    text: str


def parse_line(fmt: ManifestFormat, raw: bytes) -> ObjectRef | BadLine | None:
    """The object `raw` names; None for a blank line."""
    try:
        text = raw.decode("utf-8").strip().lstrip("\ufeff")
    except UnicodeDecodeError:
        return BadLine(raw[:SHOWN_LINE_CHARS].decode("utf-8", "replace"))
    if not text:
        return None
    found = _ground_truth(text) if fmt is ManifestFormat.GROUND_TRUTH else _inventory(text)
    return found if found is not None else BadLine(text[:SHOWN_LINE_CHARS])


def _ground_truth(text: str) -> ObjectRef | None:
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    uri = doc.get("source-ref") if isinstance(doc, dict) else None
    return parse_s3_uri(uri) if isinstance(uri, str) else None


def parse_s3_uri(uri: str) -> ObjectRef | None:
    if not uri.startswith("s3://"):
        return None
    bucket, sep, key = uri[len("s3://") :].partition("/")
    if not sep or not key or not BUCKET_PATTERN.fullmatch(bucket):
        return None
    return ObjectRef(bucket, key)


def _inventory(text: str) -> ObjectRef | None:
    try:
        row = next(csv.reader([text]))
    except (csv.Error, StopIteration):
        return None
    if len(row) < 2 or not BUCKET_PATTERN.fullmatch(row[0]):
        return None
    try:
        key = unquote_plus(row[1], errors="strict")
    except UnicodeDecodeError:
        return None
    if not key:
        return None
    size = int(row[2]) if len(row) > 2 and row[2].strip().isdigit() else None
    return ObjectRef(row[0], key, size)
