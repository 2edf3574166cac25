"""An organization's own detectors: declare one (answered with a presigned upload form), say a
file is uploaded (its validation job starts), read them beside the built-ins, delete one."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from prelabel.api.model_schemas import (
    ModelCreate,
    ModelCreatedOut,
    ModelDeletedOut,
    ModelListOut,
    ModelOut,
    ModelUploadOut,
    NormalisationIn,
    UploadSubmit,
)
from prelabel.api.model_views import (
    builtin_out,
    builtin_summary_out,
    model_out,
    model_summary_out,
    upload_out,
)
from prelabel.api.routes.common import IdPath, caller_org
from prelabel.container import container
from prelabel.domain.detector_models import (
    BUILTIN_MODELS,
    DEFAULT_RESIZE,
    ModelFamily,
    ModelRef,
    ModelSpec,
    Normalisation,
    builtin,
    checked_spec,
)
from prelabel.domain.errors import InvalidInput

router = Router()
TAGS = ["Models"]


def _three(value: float | list[float], field: str) -> tuple[float, float, float]:
    values = [value] if isinstance(value, int | float) else list(value)
    if len(values) == 1:
        values = values * 3
    if len(values) != 3:
        raise InvalidInput(
            f"normalisation.{field}: give one value or three (one per channel), not {len(values)}",
            field=f"normalisation.{field}",
        )
    return (float(values[0]), float(values[1]), float(values[2]))


def _normalisation(n: NormalisationIn, family: ModelFamily) -> Normalisation:
    return Normalisation(
        mean=_three(n.mean, "mean"),
        scale=_three(n.scale, "scale"),
        channels=n.channels,
        resize=n.resize or DEFAULT_RESIZE[family],
        pad=n.pad,
    )


def _spec(body: ModelCreate) -> ModelSpec:
    norm = _normalisation(body.normalisation, body.family)
    return checked_spec(body.name, body.family, body.input_size, norm, body.classes)


def _ref(model_id: str) -> ModelRef:
    return ModelRef(caller_org(router), model_id)


@router.post(
    "/models",
    summary="Declare a model; the answer holds a presigned form for its ONNX file",
    description=(
        "POST the form's `fields` and then the file (field `file`, at most 512 MB) to its "
        "`url`, then `POST /models/{model_id}/versions` with the upload id."
    ),
    tags=TAGS,
    status_code=201,
)
def post_model(body: ModelCreate) -> ModelCreatedOut:
    p = container()
    model, ticket = p.model_service.create(caller_org(router), _spec(body))
    detail = p.model_service.detail(ModelRef(model.org_id, model.model_id))
    return ModelCreatedOut(model=model_out(detail), upload=upload_out(ticket.upload, ticket.form))


@router.get("/models", summary="The built-in detectors and the organization's own", tags=TAGS)
def list_models() -> ModelListOut:
    own = container().model_service.list_models(caller_org(router))
    return ModelListOut(
        models=[builtin_summary_out(b) for b in BUILTIN_MODELS]
        + [model_summary_out(m) for m in own]
    )


@router.get(
    "/models/<model_id>",
    summary="A model: its declaration, classes, versions with status and reason, uploads",
    tags=TAGS,
)
def get_model(model_id: IdPath) -> ModelOut:
    found = builtin(model_id)
    if found is not None:
        return builtin_out(found)
    return model_out(container().model_service.detail(_ref(model_id)))


@router.delete(
    "/models/<model_id>",
    summary="Delete a model no project uses, with its versions and files",
    description="409 while a project uses it (the message names the projects), or for a "
    "built-in detector.",
    tags=TAGS,
)
def delete_model(model_id: IdPath) -> ModelDeletedOut:
    removed = container().model_service.delete(_ref(model_id))
    return ModelDeletedOut(model_id=model_id, files_removed=removed)


@router.post(
    "/models/<model_id>/uploads",
    summary="A presigned form for another file of the model (a new version once READY)",
    tags=TAGS,
    status_code=201,
)
def post_upload(model_id: IdPath) -> ModelUploadOut:
    ticket = container().model_service.new_upload(_ref(model_id))
    return upload_out(ticket.upload, ticket.form)


@router.post(
    "/models/<model_id>/versions",
    summary="The upload's file is in S3: start its validation job",
    description=(
        "202 with the upload VALIDATING; the job names its version (the file's sha256), READY "
        "or FAILED with a reason (read `GET /models/{model_id}`). A repeat answers the upload "
        "as it stands; 409 while no file has arrived."
    ),
    tags=TAGS,
    status_code=202,
)
def post_version(model_id: IdPath, body: UploadSubmit) -> ModelUploadOut:
    return upload_out(container().model_service.submit(_ref(model_id), body.upload_id))
