"""Importing reviewed labels, the requests: a signed upload of the file straight to S3, and the
job that reads it (its steps: services/jobs/reviewed_step.py).

The file never passes through the API (whose body limit is 64 KiB): the browser or client
POSTs it to S3 with a presigned form whose policy allows only the one key under the
organization's own folder and at most the reader's 256 MiB. An import can also read a file the
organization put elsewhere in its data locations (checked as every other S3 path is).
"""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import Conflict
from prelabel.domain.ids import new_id
from prelabel.domain.jobs import Job, JobKind, ProgressUnit
from prelabel.domain.locations import OrgLocations, check_prefix, is_readable, refused
from prelabel.domain.reviewed_uploads import safe_file_name, upload_key
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.reviewed_files import ReviewedFiles, SignedUpload
from prelabel.reviewed import DEFAULT_LIMITS, ReviewFormat
from prelabel.services.jobs.service import JobService, new_job

UPLOAD_TTL_SECONDS = 900
MAX_UPLOAD_BYTES = DEFAULT_LIMITS.max_file_bytes


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """A file in S3 (`bucket` None: the data bucket, where uploads go), its format (None: told
    from its first bytes) and, for Label Studio, the data field holding the image."""

    key: str
    bucket: str | None = None
    format: ReviewFormat | None = None
    image_field: str | None = None


@dataclass(frozen=True)
class ReviewedImportService:
    projects: ProjectRepository
    jobs: JobService
    files: ReviewedFiles

    def upload(self, ref: ProjectRef, file_name: str) -> SignedUpload:
        """A presigned POST for one file under `<org>/reviewed/<project>/<upload id>/`."""
        self.projects.get(ref)
        key = upload_key(ref, new_id("upl"), safe_file_name(file_name))
        return self.files.signed_upload(key, MAX_UPLOAD_BYTES, UPLOAD_TTL_SECONDS)

    def start(self, locations: OrgLocations, ref: ProjectRef, request: ImportRequest) -> Job:
        """The import job, started; the same request while it runs answers with it, another
        file while one runs is refused (409): imports of one project go one at a time."""
        self.projects.get(ref)
        if locations.org_id != ref.org_id:
            raise ValueError("the locations of another organization were passed for this project")
        bucket = request.bucket or self.files.bucket
        check_prefix(request.key, "key")
        if not is_readable(locations, bucket, request.key):
            raise refused(bucket, request.key)
        params = {"bucket": bucket, "key": request.key}
        if request.format is not None:
            params["format"] = request.format.value
        if request.image_field:
            params["image_field"] = request.image_field
        running = self.jobs.running(ref, JobKind.REVIEWED_IMPORT, {})
        if running is not None:
            if running.params == params:
                return running
            raise Conflict(
                f"job {running.job_id} is importing s3://{running.params.get('bucket')}/"
                f"{running.params.get('key')}; import the next file once it has ended"
            )
        return self.jobs.launch(
            new_job(ref, JobKind.REVIEWED_IMPORT, params, unit=ProgressUnit.IMAGES)
        )
