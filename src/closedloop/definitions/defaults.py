"""The shape of a definitions contract, and the starting contract a new installation gets.

Scoring, the MQL/SQL rules and the SLAs all read the *active* contract's body
(`closedloop.definitions.services.active_contract_body()`); this is its shape:

- icp: fit criteria. Each {field, op, value, step, label}; op is one of eq, in, gte, lte,
  contains. A matching criterion moves the fit grade by `step` thirds of a letter (Pardot-style:
  a lead starts at D; +3 is a whole letter up, a negative step moves it down).
- engagement: points per touchpoint type, caps per group of types, half_life_days of decay.
- mql_rule: a lead becomes MQL when engagement >= min_engagement and fit grade >= min_fit_grade.
- sql_rule: what sales must confirm to call a lead sales-qualified (checked by sales, recorded).
- sla: the handoff numbers, both sides.
- stages: the lifecycle stages in order, each with the words both teams use for how a lead
  enters it (the MQL and SQL entries are enforced by mql_rule and sql_rule; the rest are
  recorded by people through `closedloop.crm.services.change_stage`) and `next`, the stages it
  may move to: `change_stage` refuses any other move, from every door
  (`closedloop.lifecycle`).
- pipeline: the opportunity stages in order, each with a code, a label and a probability
  (percent), then the closing stages `won` and `lost` (`closedloop.pipeline`).
"""

import copy
from typing import Any

from closedloop.lifecycle import default_moves
from closedloop.pipeline import DEFAULT_PIPELINE
from closedloop.vocabulary import TouchType

DEFAULT_CONTRACT: dict[str, Any] = {
    "icp": [
        {
            "field": "industry",
            "op": "in",
            "value": ["Software", "Financial services", "Healthcare"],
            "step": 3,
            "label": "Industry we win in",
        },
        {"field": "employees", "op": "gte", "value": 200, "step": 3, "label": "200+ employees"},
        {"field": "employees", "op": "gte", "value": 1000, "step": 1, "label": "1,000+ employees"},
        {
            "field": "seniority",
            "op": "in",
            "value": ["VP", "C-level", "Director"],
            "step": 2,
            "label": "Decision-making seniority",
        },
        {
            "field": "country",
            "op": "in",
            "value": ["US", "GB", "DE", "CA"],
            "step": 1,
            "label": "Served market",
        },
        {
            "field": "email",
            "op": "contains",
            "value": "@gmail.",
            "step": -3,
            "label": "Personal email address",
        },
    ],
    "engagement": {
        "points": {
            TouchType.PAGE_VIEW.value: 1,
            TouchType.EMAIL_OPEN.value: 1,
            TouchType.EMAIL_CLICK.value: 3,
            TouchType.CONTENT_VIEW.value: 5,
            TouchType.FORM.value: 15,
            TouchType.WEBINAR.value: 20,
            TouchType.AD_CLICK.value: 2,
            TouchType.EVENT.value: 15,
            TouchType.SALES_CALL.value: 5,
            TouchType.MEETING.value: 25,
            TouchType.OTHER.value: 0,
        },
        "caps": {
            "web": {"types": [TouchType.PAGE_VIEW.value, TouchType.AD_CLICK.value], "max": 20},
            "email": {
                "types": [TouchType.EMAIL_OPEN.value, TouchType.EMAIL_CLICK.value],
                "max": 25,
            },
        },
        "half_life_days": 30,
    },
    "mql_rule": {"min_engagement": 40, "min_fit_grade": "B-"},
    "sql_rule": {"requires": ["budget", "authority", "need", "timeline"], "min_confirmed": 3},
    "sla": {
        "first_touch_minutes": 240,  # working minutes from MQL to first touch
        "attempts": 4,
        "attempts_days": 7,
        "mql_per_rep_month": 30,  # marketing's promise
        "accept_rate_floor": 0.6,  # quality floor: share of delivered MQLs that sales accepts
        "warn_before_minutes": 60,
        "ownership_protect_days": 14,
    },
    "stages": [
        {
            "stage": "subscriber",
            "next": default_moves("subscriber"),
            "label": "Subscriber",
            "entry": "Gave us an email address to receive content, nothing more.",
        },
        {
            "stage": "lead",
            "next": default_moves("lead"),
            "label": "Lead",
            "entry": "Showed interest beyond a subscription: a form, a meeting or an import.",
        },
        {
            "stage": "mql",
            "next": default_moves("mql"),
            "label": "Marketing qualified lead",
            "entry": "Meets the MQL rule: fit and engagement at or above the agreed minimums.",
        },
        {
            "stage": "sal",
            "next": default_moves("sal"),
            "label": "Sales accepted lead",
            "entry": "A rep accepted the MQL within the first-touch SLA and owns the follow-up.",
        },
        {
            "stage": "sql",
            "next": default_moves("sql"),
            "label": "Sales qualified lead",
            "entry": "The rep confirmed enough of the SQL rule's criteria in a conversation.",
        },
        {
            "stage": "opportunity",
            "next": default_moves("opportunity"),
            "label": "Opportunity",
            "entry": "An opportunity with an amount and a close date was opened for the account.",
        },
        {
            "stage": "customer",
            "next": default_moves("customer"),
            "label": "Customer",
            "entry": "An opportunity was closed won.",
        },
        {
            "stage": "recycled",
            "next": default_moves("recycled"),
            "label": "Recycled",
            "entry": "Good fit but not now: back to nurture with a re-entry date.",
        },
        {
            "stage": "disqualified",
            "next": default_moves("disqualified"),
            "label": "Disqualified",
            "entry": "Wrong fit or not a real buyer: the reason teaches the scorer.",
        },
    ],
    "pipeline": copy.deepcopy(DEFAULT_PIPELINE),
}
