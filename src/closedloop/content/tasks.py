"""Background work of the content library."""

from django_tasks import task

from closedloop.content.services.extraction import extract_version


@task()
def extract_version_text(version_id: int) -> str:
    """Extract, store and index the text of one file version; returns its status."""
    return extract_version(version_id)
