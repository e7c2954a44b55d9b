"""The crm app's services: every write of a lead, account, opportunity, stage or owner goes
through one of these, from every door (pages, API, import, admin, CLI, demo).

One small module per record (leads, accounts, opportunities), the pipeline in force and the
close reasons (pipeline), what a close does to contacts and events (closing), the stage moves
(stages), the
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
    CLOSE_FIELDS,
    CLOSED,
    announce_won,
    check_close,
    check_lost_reason,
    close_opportunity,
    create_opportunity,
    delete_opportunity,
    move_opportunity,
    reopen_opportunity,
    sync_close_fields,
    update_opportunity,
)
from closedloop.crm.services.pipeline import (
    check_currency,
    check_pipeline_stage,
    close_reason,
    close_reasons,
    current_pipeline,
    ensure_default_close_reasons,
    pipeline_stages,
    probability_expression,
    save_close_reason,
    stage_probability,
    with_probability,
)
from closedloop.crm.services.stages import (
    announce_stage_moves,
    change_stage,
    check_stage_move,
    enter_stage,
    moved_fields,
    plan_stage_move,
    record_stage_moves,
    stage_payload,
    stamp_entry,
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
    "CLOSED",
    "CLOSE_FIELDS",
    "check_close",
    "DomainTaken",
    "StaleVersion",
    "announce_stage_moves",
    "announce_won",
    "bulk_save",
    "change_stage",
    "check_domain_free",
    "check_currency",
    "check_lost_reason",
    "check_pipeline_stage",
    "close_reason",
    "close_reasons",
    "current_pipeline",
    "ensure_default_close_reasons",
    "move_opportunity",
    "pipeline_stages",
    "probability_expression",
    "save_close_reason",
    "with_probability",
    "reopen_opportunity",
    "stage_probability",
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
    "moved_fields",
    "owners_changed",
    "plan_stage_move",
    "record_stage_moves",
    "save_changed",
    "save_if_version",
    "set_changed",
    "stage_payload",
    "stamp_entry",
    "sync_close_fields",
    "update_account",
    "update_lead",
    "update_opportunity",
]
