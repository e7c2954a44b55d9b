"""`{% load content_tags %}{% content_for_lead lead %}` (lead page) and
`{% content_for_opportunity opportunity %}` (opportunity page): recommended content."""

from django import template

from closedloop.content.services import content_for_lead as recommend_for_lead
from closedloop.content.services import content_for_opportunity as recommend_for_opportunity

register = template.Library()


@register.inclusion_tag("content/_for_lead.html")
def content_for_lead(lead):
    return {"assets": recommend_for_lead(lead), "subject": "lead"}


@register.inclusion_tag("content/_for_lead.html")
def content_for_opportunity(opportunity):
    return {"assets": recommend_for_opportunity(opportunity), "subject": "opportunity"}
