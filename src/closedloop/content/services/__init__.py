"""The content library's services: every door writes and searches through these."""

from closedloop.content.services.assets import (
    EDITABLE,
    Upload,
    add_version,
    create_asset,
    max_upload_bytes,
    publish_asset,
    read_at_once,
    retire_asset,
    update_asset,
)
from closedloop.content.services.extraction import extract_version, recreation_counts
from closedloop.content.services.recommend import (
    content_for_lead,
    content_for_opportunity,
    register_won_deal_source,
)
from closedloop.content.services.searching import (
    FACETS,
    Hit,
    Results,
    content_gaps,
    record_search_open,
    search_assets,
)

__all__ = [
    "EDITABLE",
    "FACETS",
    "Hit",
    "Results",
    "Upload",
    "add_version",
    "content_for_lead",
    "content_for_opportunity",
    "content_gaps",
    "create_asset",
    "extract_version",
    "max_upload_bytes",
    "publish_asset",
    "read_at_once",
    "record_search_open",
    "recreation_counts",
    "register_won_deal_source",
    "retire_asset",
    "search_assets",
    "update_asset",
]
