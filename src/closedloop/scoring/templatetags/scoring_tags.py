"""`{% load scoring_tags %}{% score_breakdown lead %}`: the score as baseline + reasons."""

from django import template

from closedloop.scoring.explain import breakdown

register = template.Library()


@register.inclusion_tag("scoring/_breakdown.html")
def score_breakdown(lead):
    scored = lead.scored_at is not None or bool(lead.score_reasons)
    return {"b": breakdown(lead) if scored else None}
