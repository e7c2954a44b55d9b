"""The import as a background task, for imports started from a page or the API."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import_job(job_id: int) -> dict:
    """Run (or resume) import job `job_id`; returns its counts. The job row keeps the progress."""
    from closedloop.imports.models import ImportJob
    from closedloop.imports.services import ImportRefused, run_import, summary

    job = ImportJob.objects.get(pk=job_id)
    try:
        run_import(job)
    except ImportRefused:
        # The job row already says why; the page shows it.
        job.refresh_from_db()
    return {"job": job.pk, "status": job.status, "summary": summary(job)}
