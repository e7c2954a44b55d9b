"""Names of pipeline stages and close reasons in templates, read once per page render:

{% load pipeline_tags %}
{% stage_label deal.stage %}            → "Proposal" (the contract's label)
{% stage_probability deal.stage %}      → 50
{% close_reason_label "lost" deal.lost_reason %}  → "Chose a competitor"
"""

from django import template

from closedloop.crm.models import CloseReason
from closedloop.crm.services import current_pipeline
from closedloop.pipeline import Pipeline

register = template.Library()


def _pipeline(context) -> Pipeline:
    cache = context.render_context
    if "closedloop_pipeline" not in cache:
        cache["closedloop_pipeline"] = current_pipeline()
    return cache["closedloop_pipeline"]


@register.simple_tag(takes_context=True)
def stage_label(context, code: str) -> str:
    return _pipeline(context).label(code)


@register.simple_tag(takes_context=True)
def stage_probability(context, code: str) -> int:
    return _pipeline(context).probability(code)


@register.simple_tag(takes_context=True)
def close_reason_label(context, outcome: str, code: str) -> str:
    cache = context.render_context
    if "closedloop_close_reasons" not in cache:
        rows = CloseReason.objects.values_list("outcome", "code", "label")
        cache["closedloop_close_reasons"] = {(o, c): label for o, c, label in rows}
    return cache["closedloop_close_reasons"].get((outcome, code), code)
