"""The dashboard's response-rate section: counts per distribution and by store from the
database, one tenant's only; a line for surveys with open links only; nothing without a
database or on demo data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cxlab.config import Config
from cxlab.dashboards.page import build_dashboard
from cxlab.dashboards.rates import load_response_rates, response_rate_html
from cxlab.dashboards.widget import Dashboard
from cxlab.db.models import Invitation
from cxlab.demo import seed_store
from cxlab.distribution import create_distribution
from cxlab.distribution.mailing import queue_invitations
from cxlab.distribution.recipients import parse_recipients
from cxlab.outbox import send_queued
from cxlab.surveys import parse_definition
from cxlab.surveys.catalog import get_survey
from cxlab.tenancy import get_tenant
from sqlalchemy import select

from survey_server.testing import publish_survey_with_key

VISIT = parse_definition("""
slug: visit
title: {ja: ご来店アンケート, en: Store visit}
anonymity: {min_group: 1}  # the figures of one-person groups, to check the counts
attributes:
  - {name: store, label: {ja: 店舗, en: Store}, values: [渋谷, 新宿]}
questions:
  - {id: nps, type: nps, required: true, label: {ja: おすすめ度, en: "Recommend?"}}
""")
OPEN_LINK = parse_definition("""
slug: open
title: Open link survey
questions:
  - {id: nps, type: nps, label: "Recommend?"}
""")


def distribute(database, config, slug: str, survey: str, name: str, recipients: list[tuple],
               answered: set[str]) -> None:
    """A distribution of ``recipients`` (email, store), sent, with ``answered`` responded."""
    data = "email,store\n" + "".join(f"{email},{store}\n" for email, store in recipients)
    with database.session() as session:
        tenant = get_tenant(session, slug)
        report = create_distribution(session, tenant, get_survey(session, tenant, survey),
                                     name, parse_recipients(data.encode()))
        queue_invitations(session, config, tenant, report.distribution)
    send_queued(database, config, tenant=slug, rate=1000)
    with database.session() as session:
        for invitation in session.scalars(select(Invitation).where(
                Invitation.email.in_(answered))):
            invitation.responded_at = datetime.now(UTC)


@pytest.fixture
def two_tenants(config, database):
    publish_survey_with_key(database, "acme", VISIT)
    publish_survey_with_key(database, "acme", OPEN_LINK)
    publish_survey_with_key(database, "beta", VISIT)
    distribute(database, config, "acme", "visit", "May", [
        ("a1@example.com", "渋谷"), ("a2@example.com", "渋谷"), ("a3@example.com", "新宿"),
        ("a4@example.com", "新宿"), ("a5@example.com", "新宿"),
    ], answered={"a1@example.com", "a3@example.com", "a4@example.com"})
    distribute(database, config, "beta", "visit", "May", [
        ("b1@example.com", "渋谷"), ("b2@example.com", "渋谷"), ("b3@example.com", "渋谷"),
        ("b4@example.com", "新宿"), ("b5@example.com", "新宿"), ("b6@example.com", "新宿"),
        ("b7@example.com", "新宿"),
    ], answered={"b1@example.com", "b2@example.com", "b3@example.com"})


def test_figures_are_the_tenants_own_invitation_counts(config, two_tenants):
    acme = load_response_rates(config, "acme", "visit", "store")
    assert acme.distributions[["distribution", "invited", "sent", "answered"]].values.tolist() \
        == [["May", 5, 5, 3]]
    assert acme.distributions["rate"].iloc[0] == pytest.approx(0.6)
    assert 0 < acme.distributions["ci_low"].iloc[0] < 0.6 < acme.distributions["ci_high"].iloc[0]
    by_store = acme.by_attribute.set_index("store")[["sent", "responded"]]
    assert by_store.to_dict("index") == {"渋谷": {"sent": 2, "responded": 1},
                                         "新宿": {"sent": 3, "responded": 2}}
    beta = load_response_rates(config, "beta", "visit", "store")
    assert beta.distributions[["invited", "sent", "answered"]].values.tolist() == [[7, 7, 3]]
    assert beta.by_attribute.set_index("store")["responded"].to_dict() == {"渋谷": 3, "新宿": 0}


def test_html_shows_the_figures_in_the_chosen_language(config, two_tenants):
    rates = load_response_rates(config, "acme", "visit", "store")
    english = response_rate_html(rates, VISIT, "en")
    assert "Response rate of e-mail invitations" in english
    assert "Response rate by Store" in english
    assert "60.0%" in english and "50.0%" in english and "66.7%" in english
    japanese = response_rate_html(rates, VISIT, "ja")
    assert "メール配信の回答率" in japanese and "店舗別の回答率" in japanese
    assert "60.0%" in japanese
    # beta's 3 of 7 (42.9 %) and its 渋谷 100 % never appear on acme's dashboard.
    assert "42.9%" not in english + japanese and "100.0%" not in english + japanese


def test_rates_of_groups_with_too_few_answers_are_not_shown(config, two_tenants):
    """With the default minimum group of 5, acme's stores (1 and 2 answers) are hidden;
    so is the complement that would give a single hidden store away."""
    private = parse_definition(VISIT.raw | {"anonymity": {"min_group": 2}})
    rates = load_response_rates(config, "acme", "visit", "store")
    english = response_rate_html(rates, private, "en")
    assert "60.0%" in english  # the distribution's own total stays
    assert "50.0%" not in english and "66.7%" not in english
    assert "2 row(s) with fewer than 2 answers are not shown" in english
    assert "回答が2件未満の行（2行）は表示していません" in response_rate_html(rates, private, "ja")


def test_survey_without_distributions_says_open_links_only(config, two_tenants):
    rates = load_response_rates(config, "acme", "open")
    assert rates.distributions.empty
    assert "no e-mail distributions (open links only)" in response_rate_html(rates, OPEN_LINK,
                                                                             "en")
    assert "メール配信がありません（公開リンクのみ）" in response_rate_html(rates, OPEN_LINK, "ja")


def test_nothing_without_a_reachable_database(config, var_dir, two_tenants):
    assert load_response_rates(config, "nobody", "visit") is None
    assert load_response_rates(config, "acme", "beta-only-survey") is None
    missing = Config.from_environ({"CXLAB_VAR_DIR": str(var_dir / "elsewhere"),
                                   "CXLAB_ENV": "test"})
    assert load_response_rates(missing, "acme", "visit") is None
    assert not (var_dir / "elsewhere" / "cxlab.db").exists()  # not created by looking
    unreachable = Config.from_environ({
        "CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test",
        "CXLAB_DATABASE_URL": "postgresql://cxlab@127.0.0.1:9/cxlab"})
    assert load_response_rates(unreachable, "acme", "visit") is None
    assert response_rate_html(None, VISIT, "en") == ""


def test_dashboard_shows_the_section_for_its_own_tenant(config, database, two_tenants):
    seed_store(config, {"gamma": 40})
    distribute(database, config, "gamma", "store-visit", "June", [
        ("g1@example.com", "shibuya-01"), ("g2@example.com", "shinjuku-02"),
    ], answered={"g2@example.com"})
    board = build_dashboard(config, "gamma", "store-visit", language="en")
    section = board.response_rate.value
    assert "June" in section and "50.0%" in section
    # The one answer of Shinjuku is below the survey's minimum group: not shown by store.
    assert "Shinjuku" not in section and "1 row(s) with fewer than 5 answers" in section
    assert "May" not in section  # acme's and beta's distributions


def test_demo_data_shows_no_response_rate(config, database):
    board = build_dashboard(config, "nobody", "store-visit", language="en", demo_fallback=True)
    assert board.data.demo and board.data.response_rates is None
    assert isinstance(board, Dashboard) and board.response_rate.value == ""
