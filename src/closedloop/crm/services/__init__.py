"""The crm app's services: every write of a lead, account, opportunity, stage or owner goes
through one of these, from every door (pages, API, import, admin, CLI, demo).

One small module per record (leads, accounts, opportunities), the stage moves (stages), the
optimistic-concurrency helpers (versions) and the bulk variants for loads (bulk); this package
re-exports the public names, so callers import from `closedloop.crm.services`.
"""

from closedloop.crm.services.accounts import (
    DomainTaken,
    check_domain_free,
    create_account,
    delete_account,
    update_account,
)
from closedloop.crm.services.leads import (
    check_new_owner,
    check_owner_change,
    create_lead,
    default_owner,
    delete_lead,
    owners_changed,
    update_lead,
)
from closedloop.crm.services.opportunities import (
    announce_won,
    check_lost_reason,
    close_opportunity,
    create_opportunity,
    delete_opportunity,
    sync_close_fields,
    update_opportunity,
)
from closedloop.crm.services.stages import (
    announce_stage_moves,
    change_stage,
    check_stage_move,
    enter_stage,
    plan_stage_move,
    record_stage_moves,
    stage_payload,
)
from closedloop.crm.services.versions import (
    StaleVersion,
    bulk_save,
    model_attname,
    save_changed,
    save_if_version,
    set_changed,
)

__all__ = [
    "DomainTaken",
    "StaleVersion",
    "announce_stage_moves",
    "announce_won",
    "bulk_save",
    "change_stage",
    "check_domain_free",
    "check_lost_reason",
    "check_new_owner",
    "check_stage_move",
    "check_owner_change",
    "close_opportunity",
    "create_account",
    "create_lead",
    "create_opportunity",
    "default_owner",
    "enter_stage",
    "delete_account",
    "delete_lead",
    "delete_opportunity",
    "model_attname",
    "owners_changed",
    "plan_stage_move",
    "record_stage_moves",
    "save_changed",
    "save_if_version",
    "set_changed",
    "stage_payload",
    "sync_close_fields",
    "update_account",
    "update_lead",
    "update_opportunity",
]
