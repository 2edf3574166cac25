"""Exports as jobs over the fakes, and reading jobs: links to finished files, failures that
leave no file, jobs whose execution ended without their last step, the newest first."""

from __future__ import annotations

import json

import pytest

from prelabel.domain.dataset_sources import DatasetSource
from prelabel.domain.entities import DatasetStatus, LabelingState
from prelabel.domain.errors import Conflict, InvalidInput
from prelabel.domain.jobs import JobKind, JobStatus
from prelabel.export_formats import ExportFormat
from prelabel.services.exports import ExportLink
from prelabel.services.jobs import export_step
from tests.unit.fakes.jobs import STEP_ATTEMPTS
from tests.unit.jobs.conftest import BUCKET, JobWorld


def _tasks(w: JobWorld, n: int) -> None:
    w.images("acme/cam/", n)
    _, job = w.dataset_service.connect(w.locs, w.ref, DatasetSource(BUCKET, prefix="acme/cam/"))
    w.loop.run(job)


def test_an_export_job_writes_the_file_and_the_link_names_it(
    w: JobWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a project of 7 tasks, exported 2 a page
    monkeypatch.setattr(export_step, "EXPORT_PAGE_SIZE", 2)
    _tasks(w, 7)
    # When a COCO export is started, and asked for while it has not run yet
    job = w.export_service.start(w.ref, ExportFormat.COCO)
    waiting = w.export_service.link(w.ref, job.job_id, ExportFormat.COCO)
    ended = w.loop.run(job)
    # Then first the running job is the answer, counting the project's tasks
    assert waiting == job and job.total == 7 and job.kind is JobKind.EXPORT
    # And once it ran, the file is under exports/<org>/<project>/<job>/ with every task
    key = f"exports/acme/{w.ref.project_id}/{job.job_id}/{w.ref.project_id}-coco.json"
    doc = json.loads(w.objects.objects[(BUCKET, key)])
    assert len(doc["images"]) == 7
    assert ended.status is JobStatus.SUCCEEDED and (ended.done, ended.total) == (7, 7)
    # And the link is to that file, named for the download, with the export's summary
    link = w.export_service.link(w.ref, job.job_id, ExportFormat.COCO)
    assert isinstance(link, ExportLink) and link.expires_in == 900
    assert link.url.startswith(f"https://{BUCKET}.s3.example/{key}?")
    assert f"name={w.ref.project_id}-coco.json" in link.url
    assert (link.job.result["images"], link.job.result["annotations"]) == (7, 0)
    # And the link of one format is not handed out for another
    with pytest.raises(InvalidInput, match="not an export to voc"):
        w.export_service.link(w.ref, job.job_id, ExportFormat.VOC)


def test_an_export_repeat_gets_the_running_job_and_a_failure_leaves_no_file(
    w: JobWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a project, and an export of it started
    _tasks(w, 3)
    job = w.export_service.start(w.ref, ExportFormat.VOC)
    # When the same export is asked for again while it runs; Then the same job answers
    assert w.export_service.start(w.ref, ExportFormat.VOC) == job

    # When the export's writer fails part way (the step is retried, and fails each time)
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("the disk is full")

    monkeypatch.setattr("prelabel.services.jobs.export_step.write_export", broken)
    with pytest.raises(OSError, match="disk is full"):
        w.loop.run(job)
    ended = w.job_finisher.finish(w.ref, job.job_id, "a step failed: OSError: the disk is full")
    # Then no file was stored (the upload of each attempt the ASL allows was aborted), and the
    # link says the export failed
    assert len(w.export_files.aborted) == STEP_ATTEMPTS
    assert not [k for (_, k) in w.objects.objects if k.startswith("exports/")]
    assert ended.status is JobStatus.FAILED
    with pytest.raises(Conflict, match="failed: a step failed: OSError"):
        w.export_service.link(w.ref, job.job_id, ExportFormat.VOC)


def test_a_job_whose_execution_ended_elsewhere_is_ended_by_the_next_read(w: JobWorld) -> None:
    # Given an import whose execution was stopped from the console before its last step
    w.images("acme/cam/", 12)
    dataset, job = w.dataset_service.connect(
        w.locs, w.ref, DatasetSource(BUCKET, prefix="acme/cam/")
    )
    plan = w.job_runner.step(w.ref, job.job_id, "").plan
    assert plan is not None
    w.loop.slice_once(w.ref, job.job_id, plan)
    assert job.execution_arn is not None
    w.job_orchestrator.states[job.execution_arn] = "ABORTED"
    # When the dataset is read
    after, read = w.dataset_service.get(w.ref, dataset.dataset_id)
    # Then the job has ended FAILED saying so, and the dataset with it, keeping what was done
    assert read is not None and read.status is JobStatus.FAILED
    assert read.error == "the job's workflow ended ABORTED"
    assert after.status is DatasetStatus.FAILED and after.task_count == 10
    assert after.report is not None and after.report.images == 10
    # And it can be reconnected now (no job works on it)
    again = w.dataset_service.reconnect(w.locs, w.ref, dataset.dataset_id)
    assert again.kind is JobKind.RECONNECT


def test_a_job_whose_execution_is_gone_is_ended_by_the_next_read(w: JobWorld) -> None:
    # Given a move job whose execution the engine no longer knows (a local stack restarted)
    _tasks(w, 3)
    job = w.task_service.move_all(w.ref, source=LabelingState.BACKLOG, target=LabelingState.WAITING)
    assert job.execution_arn is not None
    w.job_orchestrator.gone.add(job.execution_arn)
    # When it is read; Then it has ended FAILED saying to start it again, and a new move starts
    read = w.job_service.get(w.ref, job.job_id)
    assert read.status is JobStatus.FAILED
    assert read.error == "the job's workflow is gone; start it again"
    again = w.task_service.move_all(
        w.ref, source=LabelingState.BACKLOG, target=LabelingState.WAITING
    )
    assert again.job_id != job.job_id and again.status is JobStatus.RUNNING


def test_jobs_list_newest_first(w: JobWorld) -> None:
    # Given an import, a move and an export, in that order
    _tasks(w, 2)
    w.loop.run(
        w.task_service.move_all(w.ref, source=LabelingState.BACKLOG, target=LabelingState.WAITING)
    )
    w.export_service.start(w.ref, ExportFormat.YOLO)
    # When the project's jobs are listed, 2 at most
    jobs = w.job_service.recent(w.ref, 2)
    # Then the newest come first
    assert [j.kind for j in jobs] == [JobKind.EXPORT, JobKind.MOVE]
