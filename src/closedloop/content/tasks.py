"""Background work of the content library."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from closedloop.content.services.extraction import extract_version


@task()
def extract_version_text(version_id: int) -> str:
    """Extract, store and index the text of one file version; returns its status."""
    return extract_version(version_id)


EFFECTIVENESS_EVERY = timedelta(hours=6)


@task()
def refresh_content_effectiveness(reschedule: bool = False) -> int:
    """Measure every asset's lift and store it as the search's effectiveness; then come
    back in EFFECTIVENESS_EVERY. Returns how many assets changed."""
    from closedloop.content.services.usage import library_report, store_effectiveness

    changed = store_effectiveness(library_report())
    if reschedule and refresh_content_effectiveness.get_backend().supports_defer:
        later = timezone.now() + EFFECTIVENESS_EVERY
        refresh_content_effectiveness.using(run_after=later).enqueue(True)
    return changed
