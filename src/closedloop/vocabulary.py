"""The names the whole product shares: lifecycle stages, touch types, fit grades, lead fields.

Models build their TextChoices from these (`crm.models.LifecycleStage`,
`engagement.models.TouchpointType`, `crm.models.FitGrade` take their values from here and add
the labels people read), and the pure engines and the demo
generator read them from here, so that a stage or a touch type is spelled in one place. Pure:
imports nothing from Django or from the apps (an import-linter contract checks it).
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """The default shared lifecycle (DESIGN.md), in funnel order, then the two side exits."""

    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MQL = "mql"
    SAL = "sal"
    SQL = "sql"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    RECYCLED = "recycled"
    DISQUALIFIED = "disqualified"


# The main line of the funnel in order; RECYCLED and DISQUALIFIED are side exits.
FUNNEL: tuple[Stage, ...] = (
    Stage.SUBSCRIBER,
    Stage.LEAD,
    Stage.MQL,
    Stage.SAL,
    Stage.SQL,
    Stage.OPPORTUNITY,
    Stage.CUSTOMER,
)
# A lead that reached one of these was confirmed by sales: the scorer's "converted" label.
CONVERTED: tuple[Stage, ...] = (Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER)


class TouchType(StrEnum):
    """Kinds of touchpoint, marketing's first, then sales', then the catch-all."""

    PAGE_VIEW = "page_view"
    EMAIL_OPEN = "email_open"
    EMAIL_CLICK = "email_click"
    FORM = "form"
    WEBINAR = "webinar"
    AD_CLICK = "ad_click"
    CONTENT_VIEW = "content_view"
    EVENT = "event"
    SALES_CALL = "sales_call"
    MEETING = "meeting"
    OTHER = "other"


# Touches marketing causes before a conversion. Sales calls and meetings follow conversion, so
# a predictive model that learnt from them would learn the outcome itself.
MARKETING_TOUCH_TYPES: tuple[TouchType, ...] = (
    TouchType.PAGE_VIEW,
    TouchType.EMAIL_OPEN,
    TouchType.EMAIL_CLICK,
    TouchType.FORM,
    TouchType.WEBINAR,
    TouchType.AD_CLICK,
    TouchType.CONTENT_VIEW,
    TouchType.EVENT,
)
SALES_TOUCH_TYPES: tuple[TouchType, ...] = (TouchType.SALES_CALL, TouchType.MEETING)


class Grade(StrEnum):
    """Fit grades worst → best. "D" is where every lead starts; one letter is three steps."""

    F = "F"
    D_MINUS = "D-"
    D = "D"
    D_PLUS = "D+"
    C_MINUS = "C-"
    C = "C"
    C_PLUS = "C+"
    B_MINUS = "B-"
    B = "B"
    B_PLUS = "B+"
    A_MINUS = "A-"
    A = "A"
    A_PLUS = "A+"


GRADES: tuple[str, ...] = tuple(grade.value for grade in Grade)  # worst → best
STARTING_GRADE = Grade.D.value

# What the scorer reads of a lead. An ICP criterion may name the text and number fields among
# them (a criterion on a field the scorer does not load would match nobody in the scores while
# matching in the what-if).
LEAD_FIELDS: tuple[str, ...] = (
    "industry",
    "employees",
    "seniority",
    "country",
    "email",
    "source",
    "title",
    "campaign",
    "stage",
    "created",
)


# ISO 4217 currency codes in circulation (an opportunity's amount is in one of these).
CURRENCIES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)

# Mail providers whose domain says nothing about a person's company: qualifying a lead with
# such an address matches or names its account by the company, not by the email domain.
PERSONAL_EMAIL_DOMAINS: frozenset[str] = frozenset(
    """
    gmail.com googlemail.com outlook.com hotmail.com live.com msn.com yahoo.com ymail.com
    icloud.com me.com mac.com aol.com proton.me protonmail.com gmx.com gmx.de gmx.net web.de
    mail.com yandex.com yandex.ru mail.ru qq.com 163.com 126.com zoho.com fastmail.com hey.com
    """.split()
)
