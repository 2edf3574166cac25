"""A label mapping and the model it maps as stored: a list of maps and a map, on the project
(where they are edited) and on a run's snapshot (as they were when the run started)."""

from __future__ import annotations

from prelabel.adapters.dynamodb.models import MappingRowAttr, ModelPickAttr
from prelabel.domain.detector_models import ModelPick
from prelabel.domain.mapping import LabelMapping, MappingRow


def mapping_from_items(items: list[MappingRowAttr] | None) -> LabelMapping:
    return LabelMapping(
        tuple(
            MappingRow(
                int(r.class_id),
                r.class_name,
                r.entry_id,
                None if r.min_confidence is None else float(r.min_confidence),
            )
            for r in items or []
        )
    )


def mapping_to_items(mapping: LabelMapping) -> list[MappingRowAttr]:
    return [
        MappingRowAttr(
            class_id=r.class_id,
            class_name=r.class_name,
            entry_id=r.entry_id,
            min_confidence=r.min_confidence,
        )
        for r in mapping.rows
    ]


def pick_from_item(item: ModelPickAttr | None) -> ModelPick | None:
    if item is None:
        return None
    return ModelPick(item.model_id, item.version, item.name)


def pick_to_item(pick: ModelPick | None) -> ModelPickAttr | None:
    if pick is None:
        return None
    return ModelPickAttr(model_id=pick.model_id, version=pick.version, name=pick.name)
