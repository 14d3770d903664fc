"""Celery tasks of the filings app."""

from __future__ import annotations

from celery import shared_task

from .import_jobs import run_import_job


@shared_task(name="filings.run_import_job")
def run_import_job_task(job_id: int) -> str:
    """Process one uploaded bulk-import file (queued by import_jobs.enqueue when REDIS_URL is set)."""
    return str(run_import_job(job_id).status)
