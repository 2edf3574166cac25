"""The state machine's first step: make sure the run exists, then write its manifest of batches."""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import Conflict
from prelabel.ports.workflow import BatchItem, ManifestStore
from prelabel.services.runs import RunDeps, start_run


@dataclass(frozen=True, slots=True)
class Prepared:
    run_id: str
    org_id: str
    project_id: str
    manifest_bucket: str
    manifest_prefix: str
    total: int
    batches: int


def prepare_run(
    deps: RunDeps,
    manifests: ManifestStore,
    *,
    project_id: str,
    org_id: str | None,
    execution_name: str,
    execution_arn: str,
) -> Prepared:
    """The execution's name is the run id, whether the API or the console started it."""
    ref = ProjectRef(org_id, project_id) if org_id else deps.run_store.resolve_project(project_id)
    run = deps.run_store.find(ref, execution_name)
    if run is None:
        # Started from the console with {"projectId": ...}: the console user already chose to go.
        outcome = start_run(
            deps, ref, confirm=True, run_id=execution_name, execution_arn=execution_arn
        )
        if not outcome.started:
            raise Conflict(f"project {project_id} already has an active run: {outcome.message}")
    task_ids = deps.claims.eligible_task_ids(ref)
    size = deps.batch_size
    items = [
        BatchItem(ref.org_id, ref.project_id, execution_name, n, tuple(task_ids[i : i + size]))
        for n, i in enumerate(range(0, len(task_ids), size))
    ]
    bucket, prefix = manifests.write(execution_name, items)
    deps.run_store.set_total(ref, execution_name, len(task_ids))
    return Prepared(
        execution_name, ref.org_id, ref.project_id, bucket, prefix, len(task_ids), len(items)
    )
