"""Bodies of the review-sample routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from prelabel.api.schemas import Out, Strict
from prelabel.export_formats.review_files import ReviewFileFormat
from prelabel.quality.sampling import DEFAULT_BOXES_PER_CLASS, MAX_BOXES_PER_CLASS, MAX_SEED


class ReviewSampleIn(Strict):
    format: ReviewFileFormat = Field(
        description="labelstudio: a Label Studio tasks zip with predictions; cvat: a COCO 1.0 "
        "zip for CVAT's Upload annotations (docs/exports.md)"
    )
    boxes_per_class: Annotated[StrictInt, Field(ge=1, le=MAX_BOXES_PER_CLASS)] | None = Field(
        default=None,
        description=f"Boxes each class should get (default {DEFAULT_BOXES_PER_CLASS}: what a "
        "class right 95% of the time needs to prove precision 0.9; docs/quality.md)",
    )
    seed: Annotated[StrictInt, Field(ge=0, le=MAX_SEED)] | None = Field(
        default=None, description="The same seed draws the same sample (default: a random one)"
    )


class SampleClassOut(Out):
    entry_id: str
    name: str
    target: int = Field(description="Boxes asked for")
    boxes: int = Field(description="Boxes of the class in the sample (from every task in it)")
    tasks: int = Field(description="Tasks drawn for this class")
    short: bool
    why: str | None = Field(description="Why the class got fewer boxes than asked, if it did")


class ReviewSampleOut(Out):
    url: str = Field(description="A presigned (SigV4) GET of the sample's file")
    expires_in: int
    job_id: str
    format: ReviewFileFormat
    filename: str
    tasks: int
    boxes: int
    boxes_per_class: int
    seed: int
    classes: list[SampleClassOut]
