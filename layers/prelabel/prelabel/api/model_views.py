"""Models and a project's detector -> response bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prelabel.api.model_schemas import (
    DetectorSwitchOut,
    DroppedRowOut,
    ModelOut,
    ModelSummaryOut,
    ModelUploadOut,
    NormalisationOut,
    ProjectDetectorOut,
    UploadFormOut,
    VersionOut,
)
from prelabel.api.schemas import DetectorClassOut

if TYPE_CHECKING:
    from prelabel.domain.detector_models import (
        BuiltinModel,
        DetectorModel,
        ModelUpload,
        ModelVersion,
    )
    from prelabel.ports.detector_models import UploadForm
    from prelabel.services.detector_models import ModelDetail
    from prelabel.services.project_detector import ProjectDetector, Switched


def upload_out(u: ModelUpload, form: UploadForm | None = None) -> ModelUploadOut:
    return ModelUploadOut(
        upload_id=u.upload_id,
        status=u.status,
        created_at=u.created_at,
        version=u.version,
        reason=u.reason,
        finished_at=u.finished_at,
        form=None
        if form is None
        else UploadFormOut(
            url=form.url,
            fields=dict(form.fields),
            key=form.key,
            expires_in=form.expires_in,
            max_bytes=form.max_bytes,
        ),
    )


def version_out(v: ModelVersion) -> VersionOut:
    shown = {
        k: value
        for k, value in v.validation.figures.items()
        if isinstance(value, str | int | float) and not isinstance(value, bool)
    }
    return VersionOut(
        version=v.version,
        status=v.status,
        reason=v.validation.reason,
        size_bytes=v.size_bytes,
        created_at=v.created_at,
        finished_at=v.finished_at,
        validation=shown,
    )


def model_summary_out(m: DetectorModel) -> ModelSummaryOut:
    return ModelSummaryOut(
        model_id=m.model_id,
        name=m.spec.name,
        builtin=False,
        description=None,
        family=m.spec.family,
        class_count=len(m.spec.classes),
        created_at=m.created_at,
        latest_ready=m.latest_ready,
        used_by=sorted(m.used_by),
    )


def builtin_summary_out(b: BuiltinModel) -> ModelSummaryOut:
    return ModelSummaryOut(
        model_id=b.model_id,
        name=b.name,
        builtin=True,
        description=b.description,
        family=None,
        class_count=len(b.classes),
        created_at=None,
        latest_ready=None,
        used_by=[],
    )


def builtin_out(b: BuiltinModel) -> ModelOut:
    return ModelOut(
        **builtin_summary_out(b).model_dump(),
        input_size=None,
        normalisation=None,
        classes=list(b.classes),
        versions=[],
        uploads=[],
    )


def model_out(d: ModelDetail) -> ModelOut:
    spec = d.model.spec
    n = spec.normalisation
    return ModelOut(
        **model_summary_out(d.model).model_dump(),
        input_size=list(spec.input_size),
        normalisation=NormalisationOut(
            mean=list(n.mean), scale=list(n.scale), channels=n.channels, resize=n.resize, pad=n.pad
        ),
        classes=list(spec.classes),
        versions=[version_out(v) for v in d.versions],
        uploads=[upload_out(u) for u in d.uploads],
    )


def project_detector_out(d: ProjectDetector) -> ProjectDetectorOut:
    return ProjectDetectorOut(
        project_id=d.project.ref.project_id,
        model_id=d.model_id,
        name=d.name,
        builtin=d.pick is None,
        version=d.pick.version if d.pick else None,
        classes=[DetectorClassOut(id=i, name=n) for i, n in enumerate(d.classes.names)],
    )


def switch_out(s: Switched) -> DetectorSwitchOut:
    names = {e.id: e.name for e in s.detector.project.label_config}
    return DetectorSwitchOut(
        **project_detector_out(s.detector).model_dump(),
        changed=s.changed,
        kept=len(s.detector.project.mapping.rows),
        dropped=[
            DroppedRowOut(
                detector_class=r.class_name,
                class_id=r.class_id,
                entry_id=r.entry_id,
                entry_name=names.get(r.entry_id, r.entry_id),
                min_confidence=r.min_confidence,
            )
            for r in s.dropped
        ],
    )
