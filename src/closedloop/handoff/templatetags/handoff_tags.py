"""`{% load handoff_tags %}{% lead_timers lead %}`: a lead's SLA clocks, for any page."""

from django import template

from closedloop.handoff.sla import timers_for

register = template.Library()


@register.inclusion_tag("handoff/_timers.html")
def lead_timers(lead):
    return {"timers": timers_for(lead)}


@register.inclusion_tag("handoff/_lead_work.html", takes_context=True)
def lead_workbench(context, lead):
    """The lead page's work panel: log work, tasks, edit details (what the user may do)."""
    from closedloop.handoff.lead_views import workbench

    return workbench(context["request"].user, lead)


@register.filter
def minutes_human(minutes) -> str:
    """120 → '2 h 0 min'; negative values read as 'late'."""
    if minutes is None:
        return "—"
    late = minutes < 0
    minutes = abs(int(minutes))
    text = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
    return f"{text} late" if late else text
