"""`closedloop demo`: load the synthetic demo company (`synth`) into the database, fast.

The company is drawn as NumPy columns, then written with raw bulk SQL in one transaction (a
crash leaves nothing half-loaded), with the big tables' secondary indexes dropped during a
large load and built again after it. One audit entry per table records the load. Users: one
login per role with a generated password printed once, plus the reps, managers and marketers
the data needs (with unusable passwords: nobody logs in as them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from django.apps import apps
from django.db import transaction
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from closedloop.content.search import rebuild_index as rebuild_content_index
from closedloop.core.audit import acting_as, record_bulk
from closedloop.core.db import columns as bulk
from closedloop.core.db.indexes import indexes_dropped
from closedloop.core.maintenance import refresh_planner_statistics
from closedloop.core.models import AuditSource, Team, User
from closedloop.core.services import create_or_reset_user
from closedloop.crm.services.bulk import check_stage_history
from closedloop.definitions.services import active_contract_body
from closedloop.demo import synth
from closedloop.handoff.sla import calendars_for_teams

LOGIN_URL = "http://127.0.0.1:8000/"
# Below this many rows, dropping and rebuilding indexes costs more than it saves.
INDEX_DROP_ROWS = 10_000
# Rows arrive ordered by these columns, so indexes that start with them grow by appending:
# cheaper to keep during the load than to sort again after it.
KEEP_INDEXES_LEADING = {
    "engagement.Touchpoint": ("lead_id", "occurred_at"),
    "crm.StageChange": ("lead_id", "at"),
    "crm.Activity": ("lead_id",),
    "crm.Lead": ("created_at",),
    "crm.OpportunityContact": ("opportunity_id",),
}
DEMO_MODELS = (
    "content.UsageEvent",
    "content.ShareLink",
    "engagement.Touchpoint",
    "crm.OpportunityContact",
    "crm.Opportunity",
    "crm.Activity",
    "crm.StageChange",
    "crm.Lead",
    "crm.Account",
    "content.SearchLog",
    "content.AssetVersion",
    "content.ContentAsset",
    "campaigns.Campaign",
)


class DemoRefused(ValueError):
    """The database already holds data that loading the demo would mix with."""


@dataclass
class DemoSummary:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (email, role, password)
    propensity: np.ndarray | None = None  # per lead, in lead id order (ids start at 1)


def load_demo(
    *,
    leads: int,
    seed: int,
    if_empty: bool = False,
    reset: bool = False,
    echo: Callable[[str], None] = print,
    as_of: datetime | None = None,
    score: bool = False,
) -> DemoSummary | None:
    """Load the demo company: `leads` leads drawn from `seed`, history ending at `as_of`
    (default: today, midnight UTC; the same seed and day give identical rows).

    With `if_empty`, do nothing when leads exist; with `reset`, delete the CRM, engagement,
    campaign and content data first. Otherwise refuse (DemoRefused) to mix with existing data.
    With `score`, train the predictive scorer on the demo's outcomes and score every lead.
    Prints how to log in. Returns what was loaded, or None when nothing was.
    """
    if leads < 1:
        raise DemoRefused(f"--leads must be at least 1, not {leads}")
    started = time.perf_counter()
    models = [apps.get_model(label) for label in DEMO_MODELS]
    if not reset and _already_has_data(models, if_empty=if_empty, echo=echo):
        return None
    as_of = as_of or datetime.now(UTC)
    as_of_seconds = int(as_of.timestamp()) // synth.DAY * synth.DAY
    summary = DemoSummary()
    console = Console(stderr=True)
    with acting_as(None, AuditSource.CLI), _progress(console) as progress:
        if reset:
            _reset(models, progress)
        users, summary.logins = _create_users()
        company = _draw(progress, leads=leads, seed=seed, as_of=as_of_seconds, users=users)
        summary.rows = _write(progress, company)
        rebuild_content_index()  # the library's search index, after the raw asset rows
        summary.propensity = company.propensity
        refresh_planner_statistics()
        if score:
            _train_and_score(echo)
    summary.seconds = time.perf_counter() - started
    _print_summary(echo, summary)
    return summary


def _train_and_score(echo: Callable[[str], None]) -> None:
    """Train the scorer on the demo's outcomes and score every lead, so the first look at the
    pages shows scores, reasons and the calibration table."""
    from closedloop.scoring.services import NotEnoughHistory, rescore_all, train_model

    try:
        train_model(by="demo")
    except NotEnoughHistory as exc:  # a small demo company scores with the rules
        echo(f"Scoring with the rules: {exc}.")
    result = rescore_all(trigger="demo")
    echo(f"Scored {result['leads']:,} leads with the {result['scorer']} scorer.")


def _already_has_data(models, *, if_empty: bool, echo) -> bool:
    """True (after saying so) when --if-empty finds data; DemoRefused when data is there
    without --if-empty; False when the tables are empty."""
    leads = apps.get_model("crm.Lead").objects.count()
    if leads and if_empty:
        _print_already_loaded(echo, leads)
        return True
    filled = [str(m._meta.verbose_name_plural) for m in models if m.objects.exists()]
    if filled and if_empty:
        echo(f"The database already has {', '.join(filled)}; the demo company was not loaded.")
        return True
    if filled:
        raise DemoRefused(
            f"the database already has {', '.join(filled)}; run `closedloop demo --reset` "
            "to replace them with the demo company, or --if-empty to keep them"
        )
    return False


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _reset(models, progress: Progress) -> None:
    task = progress.add_task("Deleting existing data", total=1)
    with transaction.atomic():
        deleted = bulk.delete_all(models)
        for label, count in deleted.items():
            if count:
                record_bulk(
                    apps.get_model(label),
                    count=count,
                    description=f"Deleted by closedloop demo --reset ({count} rows)",
                )
    progress.update(task, completed=1)


def _create_users() -> tuple[dict[str, int], list[tuple[str, str, str]]]:
    """Every roster user exists; login seats get a fresh password (returned, shown once)."""
    logins, ids = [], {}
    with transaction.atomic():
        for seat in synth.ROSTER:
            if seat.login:
                user, password, _ = create_or_reset_user(
                    email=seat.email,
                    role=seat.role,
                    team_name=seat.team,
                    first_name=seat.first_name,
                    last_name=seat.last_name,
                )
                logins.append((seat.email, seat.role, password))
            else:
                user = _ensure_data_user(seat)
            ids[seat.email] = user.pk
    return ids, logins


def _ensure_data_user(seat: synth.Seat) -> User:
    user = User.objects.filter(email__iexact=seat.email).first()
    if user is None:
        user = User(email=seat.email, username=seat.email)
        user.set_unusable_password()
    user.role, user.first_name, user.last_name = seat.role, seat.first_name, seat.last_name
    user.team = Team.objects.get_or_create(name=seat.team)[0] if seat.team else None
    user.save()
    return user


def _draw(progress: Progress, **options) -> synth.Company:
    task = progress.add_task("Drawing the company", total=len(synth.PHASES))

    def advance(phase: str) -> None:
        progress.update(task, advance=1, description=f"Drawing: {phase}")

    company = synth.generate_company(
        progress=advance, contract=active_contract_body(), teams=_teams(), **options
    )
    progress.update(task, completed=len(synth.PHASES), description="Drawing the company")
    return company


def _teams() -> dict:
    """Each demo team's id and working calendar, for the SLA clocks' deadlines."""
    teams = dict(
        Team.objects.filter(name__in={s.team for s in synth.ROSTER}).values_list("name", "pk")
    )
    calendars = calendars_for_teams(set(teams.values()))
    return {name: (pk, calendars[pk]) for name, pk in teams.items()}


def _write(progress: Progress, company: synth.Company) -> dict[str, int]:
    rows: dict[str, int] = {}
    history = company.tables["stage_change"].columns
    # The demo's stage moves obey the contract's lifecycle like every other door's.
    check_stage_history(history["from_stage"].tolist(), history["to_stage"].tolist())
    with bulk.fast_load(), transaction.atomic():
        for table in company.tables.values():
            model = apps.get_model(table.model)
            count = len(table)
            label = str(model._meta.verbose_name_plural).capitalize()
            task = progress.add_task(f"Writing {label.lower()}", total=count)
            with indexes_dropped(
                model,
                when=count >= INDEX_DROP_ROWS,
                keep_leading=KEEP_INDEXES_LEADING.get(table.model, ()),
            ):
                bulk.write_columns(
                    model, table.columns, advance=lambda n, t=task: progress.update(t, advance=n)
                )
                progress.update(task, description=f"Indexing {label.lower()}")
            progress.update(task, description=f"Wrote {label.lower()}")
            record_bulk(
                model,
                count=count,
                description=f"Demo company: {count} {label.lower()} (seed {company.seed})",
            )
            rows[model._meta.label] = count
        bulk.reset_sequences([apps.get_model(t.model) for t in company.tables.values()])
    return rows


def _print_already_loaded(echo, count: int) -> None:
    echo(f"The demo company is already loaded ({count:,} leads); nothing to do.")
    echo("Lost a password? `closedloop createuser EMAIL --role ROLE` sets a new one, e.g.")
    for seat in synth.LOGIN_SEATS:
        team = f" --team {seat.team}" if seat.team else ""
        echo(f"  closedloop createuser {seat.email} --role {seat.role}{team}")
    echo("To start over: `closedloop demo --reset`.")


def _print_summary(echo, summary: DemoSummary) -> None:
    leads = summary.rows.get("crm.Lead", 0)
    touches = summary.rows.get("engagement.Touchpoint", 0)
    echo(
        f"Loaded the demo company: {leads:,} leads, {touches:,} touchpoints, "
        f"{sum(summary.rows.values()):,} rows in {summary.seconds:.1f} s."
    )
    echo("")
    echo(f"How to log in at {LOGIN_URL} (passwords are shown only this once):")
    width = max(len(email) for email, _, _ in summary.logins)
    echo(f"  {'Role':<10} {'Email':<{width}}  Password")
    for email, role, password in summary.logins:
        echo(f"  {role:<10} {email:<{width}}  {password}")
    echo("A new password any time: closedloop createuser EMAIL --role ROLE")
