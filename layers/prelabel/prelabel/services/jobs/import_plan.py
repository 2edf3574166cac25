"""How an import is cut into slices, and how a slice of a listing is read.

A prefix is split by its folders (S3's `Delimiter`), level after level, until there are enough
slices (StepLimits.plan_slices) or the listing budget is spent: each folder is a slice of its
own; the objects directly under a split prefix are one more; when a level holds more folders
than slices may be added, consecutive folders go together into key ranges. Every key under the
prefix then belongs to exactly one slice. A prefix without folders stays one slice, listed from
the start as the one-step loop did. A plain manifest is cut into byte ranges (each slice reads
the lines that start in its range); a gzip one cannot be entered in the middle: one slice.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from prelabel.domain.imports import ObjectRef
from prelabel.domain.slices import MAX_SLICES
from prelabel.services.jobs.context import JobContext
from prelabel.services.jobs.slices import SliceCall

DELIMITER = "/"


@dataclass(frozen=True, slots=True)
class Level:
    folders: list[str]
    direct: bool


def _level(ctx: JobContext, bucket: str, prefix: str, budget: list[int]) -> Level | None:
    """The folders right under `prefix`, and whether objects lie directly in it; None when the
    listing budget ran out first."""
    folders: list[str] = []
    direct = False
    token: str | None = None
    while True:
        if budget[0] <= 0:
            return None
        budget[0] -= 1
        page = ctx.objects.list_page(
            bucket, prefix, token, ctx.limits.page_keys, delimiter=DELIMITER
        )
        folders += page.folders
        direct = direct or bool(page.objects)
        token = page.next_token
        if token is None:
            return Level(folders, direct)


def _groups(prefix: str, folders: list[str], count: int) -> list[dict[str, Any]]:
    """`folders` (sorted) in `count` runs of consecutive folders, each a key range."""
    cuts = [len(folders) * i // count for i in range(count + 1)]
    return [
        {
            "prefix": prefix,
            "mode": "folders",
            "first": folders[a],
            "before": folders[b] if b < len(folders) else None,
        }
        for a, b in pairwise(cuts)
        if a < b
    ]


def listing_slices(ctx: JobContext, bucket: str, prefix: str) -> list[dict[str, Any]]:
    target = min(ctx.limits.plan_slices, MAX_SLICES)
    budget = [ctx.limits.plan_listings]
    out: list[dict[str, Any]] = []
    frontier: deque[str] = deque([prefix])
    while frontier:
        current = frontier.popleft()
        room = target - len(out) - len(frontier)  # slices `current` may become
        level = _level(ctx, bucket, current, budget) if room > 1 else None
        if level is None or not level.folders:
            out.append({"prefix": current, "mode": "all"})
            continue
        if level.direct:
            out.append({"prefix": current, "mode": "direct"})
            room -= 1
        if len(level.folders) <= room:
            frontier.extend(level.folders)
        elif room >= 1:
            out += _groups(current, level.folders, room)
    return out


def manifest_slices(size: int, slice_bytes: int | None) -> list[dict[str, Any]]:
    """Byte ranges of a plain manifest (`slice_bytes` each, MAX_SLICES at most); a gzip one
    (None) is one slice of the whole."""
    if size <= 0:
        return []
    if slice_bytes is None:
        return [{"start": 0, "end": None}]
    count = min(MAX_SLICES, -(-size // slice_bytes))
    cuts = [size * i // count for i in range(count + 1)]
    return [{"start": a, "end": b} for a, b in pairwise(cuts)]


def read_listing(
    ctx: JobContext, bucket: str, call: SliceCall
) -> tuple[list[ObjectRef], dict[str, Any], bool, int]:
    """The slice's next listing pages (StepLimits.list_pages of page_keys): the objects that
    belong to the slice, the cursor after them, whether the slice is finished, and how many
    objects of the slice were listed (progress: the slices' progress adds up to the objects
    under the prefix)."""
    spec, cursor = call.spec, call.cursor
    prefix, mode = str(spec["prefix"]), str(spec.get("mode", "all"))
    first, before = spec.get("first"), spec.get("before")
    token: str | None = cursor.get("token")
    start_after = first[:-1] if mode == "folders" and first and token is None else None
    kept: list[ObjectRef] = []
    finished = False
    for _ in range(ctx.limits.list_pages):
        page = ctx.objects.list_page(
            bucket,
            prefix,
            token,
            ctx.limits.page_keys,
            delimiter=DELIMITER if mode == "direct" else None,
            start_after=start_after,
        )
        start_after = None
        for obj in page.objects:
            if before is not None and obj.key >= before:
                finished = True
                break
            if mode != "folders" or _in_folders(obj.key, prefix, first):
                kept.append(obj)
        token = page.next_token
        if finished or token is None:
            finished = True
            break
    return kept, {"token": None if finished else token}, finished, len(kept)


def _in_folders(key: str, prefix: str, first: str | None) -> bool:
    """A key of a folder range: under a folder of `prefix`, from the range's first folder on
    (the listing starts just before it and may show keys that sort between)."""
    return DELIMITER in key[len(prefix) :] and (first is None or key >= first)
