"""A label mapping as stored: a list of maps, on the project (where it is edited) and on a
run's snapshot (as it was when the run started)."""

from __future__ import annotations

from prelabel.adapters.dynamodb.models import MappingRowAttr
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
