"""Content for a lead or an opportunity: published assets that fit its persona, stage and
industry, and (once usage is measured) what was used in similar deals that were won."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import Case, IntegerField, Q, Value, When

from closedloop.content.engine.personas import persona_of
from closedloop.content.models import AssetStatus, ContentAsset
from closedloop.crm.models import Lead, Opportunity

# A hook for the usage analytics: given a lead (and its opportunity), the ids of assets used
# in similar won deals, best first. Set by the app that measures usage; none until then.
WonDealAssets = Callable[[Lead, Opportunity | None], Iterable[int]]
_won_deal_assets: list[WonDealAssets] = []


def register_won_deal_source(source: WonDealAssets) -> None:
    """Let a higher app (usage analytics) feed "used in similar won deals" to the panel."""
    _won_deal_assets.append(source)


def content_for_lead(
    lead: Lead, *, opportunity: Opportunity | None = None, limit: int = 5
) -> list[ContentAsset]:
    """Published assets for this lead, best first: those used in similar won deals (when a
    source is registered), then those matching its persona (from its job title), lifecycle
    stage and industry, more matches first, measured effectiveness breaking ties."""
    won = [i for source in _won_deal_assets for i in source(lead, opportunity)]
    persona = persona_of(lead.title, lead.seniority)
    industry = lead.industry or (lead.account.industry if lead.account is not None else "")
    fit = _fit_score(persona, lead.lifecycle_stage, industry, won)
    published = ContentAsset.objects.filter(status=AssetStatus.PUBLISHED, personal=False)
    ranked = published.annotate(fit=fit).filter(fit__gt=0)
    ordered = ranked.order_by("-fit", "-effectiveness", "-updated_at", "pk")
    return list(ordered[:limit])


def _fit_score(persona: str, stage: str, industry: str, won: list[int]):
    def points(condition: Q, weight: int):
        return Case(
            When(condition, then=Value(weight)), default=Value(0), output_field=IntegerField()
        )

    score = (
        points(Q(persona=persona) & ~Q(persona=""), 2)
        + points(Q(stage=stage) & ~Q(stage=""), 2)
        + points(Q(industry__iexact=industry) & ~Q(industry=""), 1)
    )
    if won:
        score = score + points(Q(pk__in=won[:50]), 4)
    return score


def content_for_opportunity(opportunity: Opportunity, *, limit: int = 5) -> list[ContentAsset]:
    """Content for an opportunity: as for its first contact (the opportunity's stage when it
    has no contact), from the account's industry."""
    role = opportunity.roles.select_related("lead", "lead__account").order_by("pk").first()
    lead = (
        role.lead
        if role
        else Lead(account=opportunity.account, lifecycle_stage="opportunity", industry="")
    )
    return content_for_lead(lead, opportunity=opportunity, limit=limit)
