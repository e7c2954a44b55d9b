"""Whose numbers a figure covers: the whole company, one team, or one team-less rep.

Scoreboard, campaign ROI and goals compute per scope rather than per user, so the worker can
compute each scope once and every user of that scope reads the same snapshot. `scope_for`
decides which scope a user may look at: reps and managers see their own team's numbers
whatever they ask for; marketing, executives and admins see everything, or any one team.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from closedloop.core.models import Team, User


@dataclass(frozen=True)
class Scope:
    """team_id set: that team's records; owner_id set: one user's; neither: everything."""

    team_id: int | None = None
    owner_id: int | None = None

    @property
    def key(self) -> str:
        """A cache key part naming exactly these records."""
        if self.team_id is not None:
            return f"team:{self.team_id}"
        if self.owner_id is not None:
            return f"owner:{self.owner_id}"
        return "all"

    @property
    def is_company(self) -> bool:
        return self.team_id is None and self.owner_id is None

    def owned(self, prefix: str = "") -> Q:
        """A filter on records with an `owner` (leads, opportunities), reached via `prefix`."""
        if self.team_id is not None:
            return Q(**{f"{prefix}owner__team_id": self.team_id})
        if self.owner_id is not None:
            return Q(**{f"{prefix}owner_id": self.owner_id})
        return Q()

    def label(self) -> str:
        if self.team_id is not None:
            team = Team.objects.filter(pk=self.team_id).first()
            return f"team {team.name}" if team else "a team"
        if self.owner_id is not None:
            return "your own records"
        return "the whole company"


COMPANY = Scope()


def scope_for(user: User, *, team_id: int | None = None) -> Scope:
    """The scope `user` sees when asking for `team_id` (None: their default)."""
    if user.sees_all_leads:
        if team_id is not None and Team.objects.filter(pk=team_id).exists():
            return Scope(team_id=team_id)
        return COMPANY
    if user.team_id is not None:
        return Scope(team_id=user.team_id)
    return Scope(owner_id=user.pk)
