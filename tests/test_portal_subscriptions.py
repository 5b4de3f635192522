"""Report subscriptions in the portal (issue #17): a signed-in user subscribes and
unsubscribes to their own tenant's weekly report, with CSRF, in ja and en, and never
reaches another user's or another tenant's subscriptions."""

from __future__ import annotations

import re

import pytest
import requests
from cxlab import report_subscriptions
from cxlab.db.models import ReportSubscription, User
from cxlab.errors import CxlabError
from cxlab.tenancy import get_tenant
from sqlalchemy import select
from test_portal import Portal, csrf_of, make_portal, signed_in  # noqa: F401

URL = "/portal/reports/subscription"


@pytest.fixture
def portal(make_portal) -> Portal:  # noqa: F811 - make_portal is test_portal's fixture
    return make_portal()


def subscriptions(database) -> list[tuple[str, str, str]]:
    """(user e-mail, tenant slug of the subscription, job) of every subscription."""
    with database.session() as session:
        rows = session.execute(select(User.email, ReportSubscription.tenant_id,
                                      ReportSubscription.job)
                               .join(User, User.id == ReportSubscription.user_id))
        slugs = {get_tenant(session, slug).id: slug for slug in ("acme", "rival")}
        return sorted((email, slugs[tenant_id], job) for email, tenant_id, job in rows)


def post(portal, client, action, *, lang="en", token=None, **more):
    page = client.get(portal.base_url + f"/portal/reports?lang={lang}")
    data = {"csrf_token": csrf_of(page.text) if token is None else token, "action": action,
            **more}
    return client.post(portal.base_url + URL + f"?lang={lang}", data=data,
                       allow_redirects=False)


def test_a_user_subscribes_and_unsubscribes_on_the_reports_page(portal):
    client = signed_in(portal)
    page = client.get(portal.base_url + "/portal/reports?lang=en").text
    assert "You can receive the weekly report (PDF) at ana@acme.example." in page
    assert 'name="action" value="subscribe"' in page
    assert post(portal, client, "subscribe").status_code == 303
    assert subscriptions(portal.database) == [("ana@acme.example", "acme", "weekly-report")]
    page = client.get(portal.base_url + "/portal/reports?lang=ja").text
    assert "毎週のレポート（PDF）を ana@acme.example にお送りしています。" in page
    assert "受け取りをやめる" in page
    assert post(portal, client, "subscribe").status_code == 303  # twice: still one
    assert len(subscriptions(portal.database)) == 1
    assert post(portal, client, "unsubscribe", lang="ja").status_code == 303
    assert subscriptions(portal.database) == []


def test_a_subscription_needs_the_csrf_token_and_a_known_action(portal):
    client = signed_in(portal)
    refused = post(portal, client, "subscribe", token="forged")
    assert refused.status_code == 403
    assert subscriptions(portal.database) == []
    bad = post(portal, client, "delete-everyone")
    assert bad.status_code == 422
    assert "The action must be subscribe or unsubscribe." in bad.text
    signed_out = portal.base_url + URL
    assert requests.post(signed_out, data={"action": "subscribe"},
                         allow_redirects=False).status_code == 303
    assert subscriptions(portal.database) == []


def test_a_user_cannot_reach_another_tenants_subscriptions(portal):
    ana, rita = signed_in(portal), signed_in(portal, "rita@rival.example")
    assert post(portal, ana, "subscribe").status_code == 303
    with portal.database.session() as session:
        ana_row = session.scalar(select(User).where(User.email == "ana@acme.example"))
        acme_id = ana_row.tenant_id
        ana_id = ana_row.id
    # Rita names Ana and Acme in the form: ignored, the session says who and where.
    assert post(portal, rita, "unsubscribe", user_id=str(ana_id), tenant="acme",
                tenant_id=str(acme_id)).status_code == 303
    assert post(portal, rita, "subscribe", user_id=str(ana_id), tenant="acme",
                job="weekly-report").status_code == 303
    assert subscriptions(portal.database) == [
        ("ana@acme.example", "acme", "weekly-report"),
        ("rita@rival.example", "rival", "weekly-report"),
    ]
    # Ana's CSRF token with Rita's session is refused.
    ana_token = csrf_of(ana.get(portal.base_url + "/portal/reports?lang=en").text)
    assert post(portal, rita, "unsubscribe", token=ana_token).status_code == 403
    # Each sees only their own state; the subscribers of a tenant are its own users.
    page = rita.get(portal.base_url + "/portal/reports?lang=en").text
    assert "ana@acme.example" not in page
    with portal.database.session() as session:
        acme, rival = get_tenant(session, "acme"), get_tenant(session, "rival")
        assert [u.email for u in report_subscriptions.subscribers(session, acme.id)] == [
            "ana@acme.example"]
        assert [u.email for u in report_subscriptions.subscribers(session, rival.id)] == [
            "rita@rival.example"]
        # The query layer refuses a user of another tenant outright.
        with pytest.raises(CxlabError, match="not a user of tenant"):
            report_subscriptions.subscribe(session, ana_id, rival.id)
        # A subscription row forged across tenants is delivered to neither tenant.
        row = session.scalar(select(ReportSubscription)
                             .where(ReportSubscription.user_id == ana_id))
        row.tenant_id = rival.id
        session.flush()
        assert [u.email for u in report_subscriptions.subscribers(session, rival.id)] == [
            "rita@rival.example"]
        assert report_subscriptions.subscribers(session, acme.id) == []
    assert re.search("rival", ana.get(portal.base_url + "/portal/reports?lang=en").text) is None
