"""Optimistic concurrency: the error a conditional write raises when the record moved on.

It lives in core because the API layer (`api_support`) turns it into HTTP 412 for every app,
and the apps' services (e.g. `crm.services.save_if_version`) raise it.
"""


class StaleVersion(Exception):
    """Someone else changed the record since the caller read it (HTTP 412)."""
