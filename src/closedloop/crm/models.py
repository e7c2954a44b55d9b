"""Accounts, leads (contacts), stage history, rep activities and opportunities."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from closedloop import pipeline, vocabulary
from closedloop.core.audit import Audited
from closedloop.vocabulary import Grade, Stage


class LifecycleStage(models.TextChoices):
    """The default shared lifecycle (DESIGN.md): the names are `vocabulary.Stage`; the definitions
    contract names the rules."""

    SUBSCRIBER = Stage.SUBSCRIBER.value, "Subscriber"
    LEAD = Stage.LEAD.value, "Lead"
    MQL = Stage.MQL.value, "MQL"
    SAL = Stage.SAL.value, "SAL"
    SQL = Stage.SQL.value, "SQL"
    OPPORTUNITY = Stage.OPPORTUNITY.value, "Opportunity"
    CUSTOMER = Stage.CUSTOMER.value, "Customer"
    RECYCLED = Stage.RECYCLED.value, "Recycled"
    DISQUALIFIED = Stage.DISQUALIFIED.value, "Disqualified"


# The main line of the funnel in order; RECYCLED and DISQUALIFIED are side exits.
FUNNEL_STAGES: tuple[LifecycleStage, ...] = tuple(LifecycleStage(s) for s in vocabulary.FUNNEL)


def entered_field(stage: str) -> str:
    """The Lead field holding the first time a lead entered `stage` (e.g. "sal" → "sal_at")."""
    return f"{LifecycleStage(stage).value}_at"


# Every stage's "first entered" field on Lead, in the order of LifecycleStage.
ENTERED_FIELDS: tuple[str, ...] = tuple(entered_field(s) for s in LifecycleStage.values)


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    ATTEMPTING = "attempting", "Attempting contact"
    CONNECTED = "connected", "Connected"
    QUALIFIED = "qualified", "Qualified"
    NURTURE = "nurture", "Nurture"
    UNQUALIFIED = "unqualified", "Unqualified"


class LeadSource(models.TextChoices):
    ORGANIC_SEARCH = "organic_search", "Organic search"
    PAID_SEARCH = "paid_search", "Paid search"
    SOCIAL = "social", "Social"
    EMAIL = "email", "Email"
    REFERRAL = "referral", "Referral"
    EVENT = "event", "Event"
    WEBINAR = "webinar", "Webinar"
    PARTNER = "partner", "Partner"
    OUTBOUND = "outbound", "Sales outbound"
    DIRECT = "direct", "Direct"
    IMPORT = "import", "Import"
    OTHER = "other", "Other"


class FitGrade(models.TextChoices):
    """Fit grades, best first (the names are `vocabulary.Grade`)."""

    A_PLUS = Grade.A_PLUS.value, "A+"
    A = Grade.A.value, "A"
    A_MINUS = Grade.A_MINUS.value, "A-"
    B_PLUS = Grade.B_PLUS.value, "B+"
    B = Grade.B.value, "B"
    B_MINUS = Grade.B_MINUS.value, "B-"
    C_PLUS = Grade.C_PLUS.value, "C+"
    C = Grade.C.value, "C"
    C_MINUS = Grade.C_MINUS.value, "C-"
    D_PLUS = Grade.D_PLUS.value, "D+"
    D = Grade.D.value, "D"
    D_MINUS = Grade.D_MINUS.value, "D-"
    F = Grade.F.value, "F"


class Versioned(models.Model):
    """Optimistic concurrency: `version` goes up by one on every update (API If-Match/ETag)."""

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Account(Audited, Versioned):
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True, db_index=True)
    industry = models.CharField(max_length=80, blank=True, db_index=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
    )
    external_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("domain"), condition=~models.Q(domain=""), name="account_domain_unique"
            ),
        ]
        indexes = [models.Index(fields=["external_id"]), models.Index(fields=["owner"])]

    def __str__(self) -> str:
        return self.name


class Lead(Audited, Versioned):
    """A person marketing or sales knows about: a contact at any lifecycle stage."""

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=150, blank=True)
    seniority = models.CharField(max_length=40, blank=True)
    company = models.CharField(max_length=200, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    industry = models.CharField(max_length=80, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True)
    city = models.CharField(max_length=100, blank=True)

    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.LEAD
    )
    status = models.CharField(max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
        db_index=False,  # lead_owner_created leads with owner
    )
    source = models.CharField(max_length=20, choices=LeadSource.choices, default=LeadSource.OTHER)
    original_campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sourced_leads",
        db_index=False,  # lead_campaign_created covers it
    )
    external_id = models.CharField(max_length=100, blank=True)

    # Scores are written by the scoring capability; stored here so lists filter and sort on them.
    fit_grade = models.CharField(max_length=2, choices=FitGrade.choices, blank=True)
    engagement_score = models.FloatField(default=0)
    conversion_probability = models.FloatField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(default=0, help_text="0–100, what lists sort on")
    score_reasons = models.JSONField(default=list, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)

    # Stage timestamps: the first time the lead entered each lifecycle stage (null: never),
    # kept by crm.services.stages on every write path so that the funnel reads them per lead
    # instead of rescanning StageChange (docs/decisions/0028-stage-timestamps-on-the-lead.md).
    # `mql_at` is also a handoff timestamp (SLA clocks start there).
    subscriber_at = models.DateTimeField(null=True, blank=True)
    lead_at = models.DateTimeField(null=True, blank=True)
    mql_at = models.DateTimeField(null=True, blank=True)
    sal_at = models.DateTimeField(null=True, blank=True)
    sql_at = models.DateTimeField(null=True, blank=True)
    opportunity_at = models.DateTimeField(null=True, blank=True)
    customer_at = models.DateTimeField(null=True, blank=True)
    recycled_at = models.DateTimeField(null=True, blank=True)
    disqualified_at = models.DateTimeField(null=True, blank=True)
    # Handoff timestamps: when the lead was assigned and first worked.
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_touched_at = models.DateTimeField(null=True, blank=True)
    recycle_at = models.DateField(null=True, blank=True, help_text="Re-entry date when recycled")

    AUDIT_EXCLUDE = ("updated_at", "version", "score_reasons", "scored_at")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # One index per list filter, each ending in the default sort so that a filtered,
            # sorted page is an index range scan rather than a sort of the whole table.
            models.Index(fields=["lifecycle_stage", "created_at"], name="lead_stage_created"),
            models.Index(fields=["owner", "created_at"], name="lead_owner_created"),
            models.Index(fields=["source", "created_at"], name="lead_source_created"),
            models.Index(fields=["original_campaign", "created_at"], name="lead_campaign_created"),
            models.Index(fields=["score", "created_at"], name="lead_score_created"),
            # The inbox-like view "this stage, best first" (a stage can hold 20% of all leads).
            models.Index(
                fields=["lifecycle_stage", "score", "created_at"], name="lead_stage_score"
            ),
            models.Index(fields=["status"], name="lead_status"),
            models.Index(Lower("email"), name="lead_email_lower"),
            models.Index(fields=["last_name", "first_name"], name="lead_name"),
            models.Index(fields=["company"], name="lead_company"),
            models.Index(fields=["external_id"], name="lead_external_id"),
            models.Index(fields=["updated_at"], name="lead_updated"),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or f"Lead {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class StageChange(models.Model):
    """A lifecycle stage change: stages never change silently (DESIGN.md)."""

    # Single-column foreign-key indexes are left out where a composite index starts with the
    # column: each index costs every insert, and these tables are the largest.
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="stage_changes", db_index=False
    )
    from_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=LifecycleStage.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    rule_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="Definitions contract version whose rule moved the lead"
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["lead", "at"], name="stagechange_lead_at"),
            models.Index(fields=["to_stage", "lead"], name="stagechange_to_lead"),
            models.Index(fields=["at"], name="stagechange_at"),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage or '∅'} → {self.to_stage}"


class ActivityKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    NOTE = "note", "Note"


class ActivityOutcome(models.TextChoices):
    NONE = "", "—"
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left message"
    CONNECTED = "connected", "Connected"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"
    NOT_INTERESTED = "not_interested", "Not interested"


class Activity(Audited):
    """Something a rep did with a lead: the evidence that a lead was worked."""

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        db_index=False,
    )
    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    outcome = models.CharField(max_length=20, choices=ActivityOutcome.choices, blank=True)
    notes = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["lead", "at"], name="activity_lead_at"),
            models.Index(fields=["rep", "at"], name="activity_rep_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"


class OpportunityStage(models.TextChoices):
    """The starting pipeline's stage codes. The stages in force are the definitions contract's
    (`closedloop.crm.services.opportunities.pipeline_stages()`); `WON` and `LOST` are the
    closing stages of every pipeline (`closedloop.pipeline`)."""

    DISCOVERY = "discovery", "Discovery"
    PROPOSAL = "proposal", "Proposal"
    NEGOTIATION = "negotiation", "Negotiation"
    WON = pipeline.WON, "Closed won"
    LOST = pipeline.LOST, "Closed lost"


class CloseOutcome(models.TextChoices):
    WON = pipeline.WON, "Won"
    LOST = pipeline.LOST, "Lost"


class CloseReason(Audited):
    """A reason a deal was won or lost, from the managed list admins keep in Settings.

    Opportunities store the code (`won_reason`, `lost_reason`); a reason in use is deactivated,
    never deleted, so closed deals keep theirs. A lost deal's contacts go to Recycled with a
    re-entry date `recycle_days` ahead."""

    outcome = models.CharField(max_length=4, choices=CloseOutcome.choices)
    code = models.CharField(max_length=40)
    label = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    recycle_days = models.PositiveSmallIntegerField(
        default=90, help_text="Lost deals: days until the contacts re-enter marketing"
    )

    class Meta:
        ordering = ["outcome", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["outcome", "code"], name="close_reason_unique")
        ]

    def __str__(self) -> str:
        return self.label


def default_currency() -> str:
    """The currency of a new opportunity's amount (CLOSEDLOOP_CURRENCY, ISO 4217)."""
    return settings.DEFAULT_CURRENCY


class Opportunity(Audited, Versioned):
    """A deal with an account. Its stage is one of the contract's pipeline stages, written by
    the services in `crm/services/opportunities.py`, which keep the stage history."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="opportunities")
    name = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default=default_currency, help_text="ISO 4217")
    stage = models.CharField(max_length=pipeline.CODE_LENGTH, default=OpportunityStage.DISCOVERY)
    stage_entered_at = models.DateTimeField(
        null=True, blank=True, help_text="When the deal arrived at its stage (days in stage)"
    )
    close_date = models.DateField(null=True, blank=True)
    next_step = models.CharField(max_length=200, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=40, blank=True, help_text="A lost CloseReason code")
    won_reason = models.CharField(max_length=40, blank=True, help_text="A won CloseReason code")
    close_note = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
        db_index=False,  # opp_owner_created covers it
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    external_id = models.CharField(max_length=100, blank=True)
    contacts = models.ManyToManyField(
        Lead, through="OpportunityContact", related_name="opportunities"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["stage", "close_date"], name="opp_stage_close"),
            # The board and list: sums per owner, stage and currency read this index alone
            # (everyone's deals or a team's); a column's largest deals are a sort of its
            # stage's entries.
            models.Index(
                fields=["owner", "stage", "currency", "amount"], name="opp_owner_stage_money"
            ),
            # The board's closed columns: a stage's latest closes.
            models.Index(fields=["stage", "closed_at"], name="opp_stage_closed"),
            models.Index(fields=["owner", "created_at"], name="opp_owner_created"),
            models.Index(fields=["external_id"], name="opp_external_id"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.stage in (OpportunityStage.WON, OpportunityStage.LOST)


class OpportunityStageChange(models.Model):
    """A move of an opportunity between pipeline stages: who, when, from, to and why. The
    board's days-in-stage and the analytics' velocity read these."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stage_changes", db_index=False
    )
    from_stage = models.CharField(max_length=pipeline.CODE_LENGTH, blank=True)
    to_stage = models.CharField(max_length=pipeline.CODE_LENGTH)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["opportunity", "at"], name="oppstage_opp_at"),
            models.Index(fields=["to_stage", "at"], name="oppstage_to_at"),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage or '∅'} → {self.to_stage}"


class ContactRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", "Decision maker"
    CHAMPION = "champion", "Champion"
    INFLUENCER = "influencer", "Influencer"
    USER = "user", "User"
    OTHER = "other", "Other"


class OpportunityContact(models.Model):
    opportunity = models.ForeignKey(  # the (opportunity, lead) unique constraint indexes it
        Opportunity, on_delete=models.CASCADE, related_name="roles", db_index=False
    )
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="opportunity_roles")
    role = models.CharField(max_length=20, choices=ContactRole.choices, default=ContactRole.OTHER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "lead"], name="opp_contact_unique")
        ]

    def __str__(self) -> str:
        return f"{self.lead} as {self.get_role_display()}"
