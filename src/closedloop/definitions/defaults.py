"""The shape of a definitions contract, and the starting contract a new installation gets.

Scoring, the MQL/SQL rules and the SLAs all read the *active* contract's body
(`closedloop.definitions.services.active_contract()`); this is its shape:

- icp: fit criteria. Each {field, op, value, step, label}; op is one of eq, in, gte, lte,
  contains. A matching criterion moves the fit grade by `step` thirds of a letter (Pardot-style:
  a lead starts at D; +3 is a whole letter up, a negative step moves it down).
- engagement: points per touchpoint type, caps per group of types, half_life_days of decay.
- mql_rule: a lead becomes MQL when engagement >= min_engagement and fit grade >= min_fit_grade.
- sql_rule: what sales must confirm to call a lead sales-qualified (checked by sales, recorded).
- sla: the handoff numbers, both sides.
"""

DEFAULT_CONTRACT: dict = {
    "icp": [
        {"field": "industry", "op": "in", "value": ["Software", "Financial services", "Healthcare"],
         "step": 3, "label": "Industry we win in"},
        {"field": "employees", "op": "gte", "value": 200, "step": 3, "label": "200+ employees"},
        {"field": "employees", "op": "gte", "value": 1000, "step": 1, "label": "1,000+ employees"},
        {"field": "seniority", "op": "in", "value": ["VP", "C-level", "Director"], "step": 2,
         "label": "Decision-making seniority"},
        {"field": "country", "op": "in", "value": ["US", "GB", "DE", "CA"], "step": 1,
         "label": "Served market"},
        {"field": "email", "op": "contains", "value": "@gmail.", "step": -3,
         "label": "Personal email address"},
    ],
    "engagement": {
        "points": {
            "page_view": 1, "email_open": 1, "email_click": 3, "content_view": 5, "form": 15,
            "webinar": 20, "ad_click": 2, "event": 15, "sales_call": 5, "meeting": 25, "other": 0,
        },
        "caps": {"web": {"types": ["page_view", "ad_click"], "max": 20},
                 "email": {"types": ["email_open", "email_click"], "max": 25}},
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
}
