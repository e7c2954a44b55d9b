"""Most tests here are about the sign-off mechanics (one person, one side; two sides put a
version in force), written with reps signing for sales. Who may sign is a setting whose
default is sales managers; these tests set it to reps and managers, and test_governance.py
tests the setting itself (it overrides this fixture)."""

import pytest

from closedloop.core.models import Role
from closedloop.definitions.models import Side, SignerRule


@pytest.fixture(autouse=True)
def reps_sign_for_sales(db):
    SignerRule.objects.create(side=Side.SALES, roles=[Role.REP, Role.MANAGER])
