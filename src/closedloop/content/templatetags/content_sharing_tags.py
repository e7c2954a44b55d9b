"""`{% load content_sharing_tags %}{% content_sharing lead %}` (lead page): the links sent to
the lead with their views, a form to share an asset, and "ask marketing for content";
`{% content_request_button opportunity=opportunity %}` (opportunity page)."""

from django import template

from closedloop.content.models import AssetStatus, ContentAsset
from closedloop.content.usage_models import ShareLink

register = template.Library()
SHOWN_LINKS = 20
SHAREABLE = 300


@register.inclusion_tag("content/_lead_sharing.html", takes_context=True)
def content_sharing(context, lead):
    user = context["user"]
    links = ShareLink.objects.filter(lead=lead).select_related("asset", "created_by")
    assets = ContentAsset.objects.filter(status=AssetStatus.PUBLISHED, personal=False)
    return {
        "lead": lead,
        "user": user,
        "links": list(links[:SHOWN_LINKS]),
        "assets": assets.order_by("title").only("pk", "title")[:SHAREABLE],
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }


@register.inclusion_tag("content/_request_button.html")
def content_request_button(lead=None, opportunity=None):
    return {"lead": lead, "opportunity": opportunity}
