"""The label mapping: detector class -> bbox entry of the project's label configuration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prelabel.domain.detector_classes import COCO80, ClassList
from prelabel.domain.errors import InvalidInput
from prelabel.domain.label_config import Geometry, LabelEntry, bbox_entries
from prelabel.domain.repeats import FirstPlaces

DEFAULT_THRESHOLD = 0.5
# One row per detector class at most: an uploaded model has up to 1,000 (the project's item
# and a run's snapshot hold them, about 200 KB at most; the API's 64 KiB body takes 1,000
# rows that name classes by id).
MAX_MAPPING_ROWS = 1000
# The lowest threshold a mapping may set. The worker asks the detector for boxes down to the
# mapping's lowest threshold, and below 0.01 a detector answers its whole candidate list
# (thousands of near-zero boxes per image) that no one would review.
MIN_THRESHOLD = 0.01


@dataclass(frozen=True, slots=True)
class MappingRowInput:
    """A row as a caller wrote it: the class by id or name, the entry by id."""

    detector_class: str | int
    entry_id: str
    min_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class MappingRow:
    class_id: int
    class_name: str
    entry_id: str
    min_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class LabelMapping:
    rows: tuple[MappingRow, ...]

    def row_for(self, class_id: int) -> MappingRow | None:
        for row in self.rows:
            if row.class_id == class_id:
                return row
        return None

    def threshold_for(self, row: MappingRow, default_threshold: float) -> float:
        return default_threshold if row.min_confidence is None else row.min_confidence

    def thresholds(self, default_threshold: float) -> dict[str, float]:
        """Detector class name -> the threshold the mapping applies to it."""
        return {row.class_name: self.threshold_for(row, default_threshold) for row in self.rows}


def check_threshold(value: float, field: str) -> float:
    if MIN_THRESHOLD <= value <= 1.0:
        return value
    if 0.0 <= value < MIN_THRESHOLD:
        raise InvalidInput(
            f"{field}: {value} is below {MIN_THRESHOLD}, the lowest threshold allowed",
            field=field,
        )
    raise InvalidInput(f"{field}: {value} is outside [{MIN_THRESHOLD}, 1]", field=field)


def detector_score_floor(mapping: LabelMapping, default_threshold: float) -> float:
    """The lowest threshold the mapping applies to any of its rows (the default where a row
    sets none): the score floor the detector is asked for, so no threshold is cut short.

    Never below MIN_THRESHOLD, which also covers mappings saved before that minimum existed.
    """
    used = [mapping.threshold_for(row, default_threshold) for row in mapping.rows]
    return max(min(used, default=default_threshold), MIN_THRESHOLD)


def require_bbox_entry(label_config: Sequence[LabelEntry]) -> None:
    if not bbox_entries(label_config):
        raise InvalidInput(
            "this project's label configuration has no bbox entry, so pre-labeling cannot be "
            "configured; add a bbox entry first",
            field="label_config",
        )


def build_mapping(
    rows: Sequence[MappingRowInput],
    label_config: Sequence[LabelEntry],
    classes: ClassList = COCO80,
) -> LabelMapping:
    """Validate every row against the rules of the spec and the project's model's `classes`;
    the first bad row is named."""
    require_bbox_entry(label_config)
    if len(rows) > MAX_MAPPING_ROWS:
        raise InvalidInput(
            f"rows: {len(rows)} rows given; at most {MAX_MAPPING_ROWS} are allowed", field="rows"
        )
    entries = {e.id: e for e in label_config}
    mapped = FirstPlaces[int]("rows")
    built: list[MappingRow] = []
    for i, row in enumerate(rows):
        try:
            cls = classes.resolve(row.detector_class)
        except InvalidInput as exc:
            raise InvalidInput(
                f"rows[{i}].detector_class: {exc.message}", field=f"rows[{i}].detector_class"
            ) from exc
        entry = entries.get(row.entry_id)
        if entry is None:
            raise InvalidInput(
                f"rows[{i}].entry_id: no label-configuration entry has id {row.entry_id!r}",
                field=f"rows[{i}].entry_id",
            )
        if entry.geometry is not Geometry.BBOX:
            raise InvalidInput(
                f"rows[{i}].entry_id: entry {entry.id!r} ({entry.name}) is a "
                f"{entry.geometry.value}; only bbox entries can be targets",
                field=f"rows[{i}].entry_id",
            )
        mapped.claim(
            i,
            cls.id,
            "detector_class",
            f"{cls.name!r} is already mapped in",
            "; one class maps to at most one entry",
        )
        if row.min_confidence is not None:
            check_threshold(row.min_confidence, f"rows[{i}].min_confidence")
        built.append(MappingRow(cls.id, cls.name, entry.id, row.min_confidence))
    return LabelMapping(tuple(built))


@dataclass(frozen=True, slots=True)
class CarriedMapping:
    """A mapping moved onto another model's classes: the rows it kept (re-indexed) and those
    it dropped because the new model has no class of that name."""

    mapping: LabelMapping
    dropped: tuple[MappingRow, ...]


def carry_over(mapping: LabelMapping, classes: ClassList) -> CarriedMapping:
    """Keep each row whose class name the new model knows, at that class's index there."""
    kept: list[MappingRow] = []
    dropped: list[MappingRow] = []
    taken: set[int] = set()
    for row in mapping.rows:
        found = classes.find(row.class_name)
        if found is None or found.id in taken:
            dropped.append(row)
            continue
        taken.add(found.id)
        kept.append(MappingRow(found.id, found.name, row.entry_id, row.min_confidence))
    return CarriedMapping(LabelMapping(tuple(kept)), tuple(dropped))
