"""Domain events that other parts listen to (webhooks, notifications, digests).

Emitters send these after the change is committed (`transaction.on_commit`), so a listener
never announces something that was rolled back. Every signal is sent with keyword arguments
`payload` (a JSON-serialisable dict) and, where there is one, `lead` / `opportunity`.
"""

from django.dispatch import Signal

lead_became_mql = Signal()  # payload: lead id, rule version, scores
lead_accepted = Signal()  # payload: lead id, rep
lead_rejected = Signal()  # payload: lead id, rep, reason, note
opportunity_won = Signal()  # payload: opportunity id, amount, currency, account, reason, note
opportunity_lost = Signal()  # payload: as opportunity_won
sla_breached = Signal()  # payload: lead id, rep, which SLA, due, breached_at
lead_stage_changed = Signal()  # payload: lead id, from, to, reason, rule version
touchpoints_recorded = Signal()  # payload: {"lead_ids": [...]}: rescore these leads
leads_imported = Signal()  # payload: {"lead_ids": [...]}: an import created or changed them
leads_reentered = Signal()  # payload: {"lead_ids": [...]}: recycled leads back at stage Lead
contract_activated = Signal()  # payload: {"version": n}: rules changed, rescore everything
# The one signal sent *inside* a transaction: touches are being stored (payload as
# touchpoints_recorded). A listener may queue work that commits with them, and returns True
# when it did, so that the emitter tells touchpoints_recorded's listeners not to queue it again.
touchpoints_storing = Signal()
# Also sent inside the transaction: leads' owners were changed by a door other than the
# handoff's own (the API, the admin, an import), with `by` (the user, or None) and payload
# {"changes": [{"lead", "from_owner", "to_owner"} as ids], "reason", "at"}. The handoff
# records them in its ownership log (Assignment) in the same transaction.
lead_owners_changing = Signal()

EVENTS = {
    "lead.mql": lead_became_mql,
    "lead.accepted": lead_accepted,
    "lead.rejected": lead_rejected,
    "opportunity.won": opportunity_won,
    "opportunity.lost": opportunity_lost,
    "sla.breached": sla_breached,
    "lead.stage_changed": lead_stage_changed,
}
