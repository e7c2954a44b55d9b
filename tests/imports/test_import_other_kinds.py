"""Accounts, opportunities and touchpoints from Salesforce, HubSpot and generic files."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from closedloop.crm.models import Account, Opportunity
from closedloop.engagement.models import Touchpoint
from closedloop.imports.services import ImportRefused
from tests.factories import make_account, make_lead
from tests.imports.helpers import errors_of, import_file, sample, write


def test_a_salesforce_account_report_becomes_accounts_keyed_by_domain():
    job = import_file(sample("salesforce_accounts.csv"), kind="accounts", fmt="salesforce")
    assert (job.created, job.failed) == (2, 0)
    acct = Account.objects.get(external_id="0015j00000XyZ01")
    assert (acct.name, acct.domain, acct.country) == ("Substitution Inc", "substitution.com", "US")
    assert acct.annual_revenue == Decimal("12500000.00")
    again = import_file(sample("salesforce_accounts.csv"), kind="accounts", fmt="salesforce")
    assert (again.created, again.skipped) == (0, 2)


def test_an_account_without_external_id_matches_an_existing_one_by_domain(tmp_path):
    existing = make_account("Old name", domain="acme.com")
    path = write(
        tmp_path,
        "a.csv",
        "Company name,Company Domain Name,Industry\nAcme,https://www.ACME.com,Retail\n",
    )
    job = import_file(path, kind="accounts", fmt="hubspot")
    existing.refresh_from_db()
    assert (job.updated, existing.name, existing.industry) == (1, "Acme", "Retail")


def test_a_domain_owned_by_another_account_fails_the_row(tmp_path):
    make_account("Acme", domain="acme.com")
    make_account("Beta", domain="beta.com", external_id="B1")
    path = write(
        tmp_path, "a.csv", "Record ID,Company name,Company Domain Name\nB1,Beta,acme.com\n"
    )
    job = import_file(path, kind="accounts", fmt="hubspot")
    assert errors_of(job) == [
        (2, "Company Domain Name", "domain already belongs to account 'Acme'")
    ]


def test_duplicate_domains_within_a_file_fail(tmp_path):
    path = write(tmp_path, "a.csv", "name,domain\nAcme,acme.com\nAcme again,www.acme.com\n")
    job = import_file(path, kind="accounts")
    assert (job.created, job.failed) == (1, 1)
    assert errors_of(job) == [(3, "domain", "duplicate domain within the file (first on line 2)")]


def test_salesforce_opportunities_find_their_account_by_name_and_map_stages():
    import_file(sample("salesforce_accounts.csv"), kind="accounts", fmt="salesforce")
    job = import_file(
        sample("salesforce_opportunities.csv"), kind="opportunities", fmt="salesforce"
    )
    assert (job.created, job.failed) == (2, 1)
    won = Opportunity.objects.get(external_id="0065j00000Opp01")
    assert (won.stage, won.amount) == ("won", Decimal("48000.00"))
    assert won.close_date == date(2024, 3, 31)
    assert won.account.name == "Substitution Inc"
    assert won.closed_at == datetime(2024, 3, 31, 12, tzinfo=UTC)
    assert Opportunity.objects.get(external_id="0065j00000Opp02").stage == "negotiation"
    assert errors_of(job) == [
        (4, "Account Name", "no account named 'Nobody Ltd': import the accounts first")
    ]


def test_hubspot_deals_find_their_company_by_record_id():
    import_file(sample("hubspot_companies.csv"), kind="accounts", fmt="hubspot")
    job = import_file(sample("hubspot_deals.csv"), kind="opportunities", fmt="hubspot")
    assert (job.created, job.failed) == (2, 0)
    deal = Opportunity.objects.get(external_id="7001")
    assert (deal.stage, deal.account.domain) == ("won", "navy-systems.com")
    again = import_file(sample("hubspot_deals.csv"), kind="opportunities", fmt="hubspot")
    assert (again.created, again.skipped) == (0, 2)


def test_touchpoints_join_leads_by_email_and_never_duplicate():
    grace = make_lead(email="grace.hopper@navy-systems.com")
    alan = make_lead(email="alan@bletchley.co.uk")
    job = import_file(sample("touchpoints.csv"), kind="touchpoints")
    assert (job.created, job.failed) == (3, 1)
    assert errors_of(job) == [(5, "email", "no lead with this email or external id")]
    assert sorted(Touchpoint.objects.filter(lead=grace).values_list("type", flat=True)) == [
        "form",
        "page_view",
    ]
    assert Touchpoint.objects.get(lead=alan).type == "email_open"
    again = import_file(sample("touchpoints.csv"), kind="touchpoints")
    assert (again.created, again.skipped, Touchpoint.objects.count()) == (0, 3, 3)


def test_an_opportunity_file_without_an_id_column_is_refused_whole(tmp_path):
    make_account("Acme", domain="acme.com")
    path = write(tmp_path, "o.csv", "Opportunity Name,Account Name\nBig deal,Acme\n")
    with pytest.raises(ImportRefused, match=r"no column is mapped to External id \(required\)"):
        import_file(path, kind="opportunities", fmt="salesforce")
    assert not Opportunity.objects.exists()


def test_the_same_touch_twice_in_a_file_is_stored_once(tmp_path):
    make_lead(email="ann@acme.com")
    path = write(
        tmp_path,
        "t.csv",
        "email,type,timestamp\nann@acme.com,Page view,2024-03-01\n"
        "ann@acme.com,Page view,2024-03-01\n",
    )
    job = import_file(path, kind="touchpoints")
    assert (job.created, job.skipped, Touchpoint.objects.count()) == (1, 1, 1)
