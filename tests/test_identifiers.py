"""One definition of a slug and of an e-mail address (cxlab.identifiers), used by every
check: users and recipient lists once disagreed on what an e-mail address is."""

import pytest
from cxlab import tenancy
from cxlab.distribution.recipients import RecipientRow, check_recipients
from cxlab.errors import CxlabError
from cxlab.identifiers import SLUG_PATTERN, is_email_address
from cxlab.store import StoreNotFound
from cxlab.store.layout import check_slug
from cxlab.surveys import parse_definition
from cxlab.surveys.catalog import publish_survey
from cxlab.surveys.definition import DefinitionError

# Addresses the users' old pattern (anything@anything.anything) accepted and the
# recipient files' pattern refused: a mail server without SMTPUTF8 takes none of them.
ONCE_DISAGREED = [
    "ana@例え.jp",  # a non-ASCII domain
    "ana@example..com",  # an empty domain label
    "ana@exa_mple.com",  # '_' is not allowed in a host name
    "ana@example.com.",  # a trailing dot
    '"ana smith"@example.com',  # a quoted local part
    "ana(work)@example.com",  # a comment
    "ana@[192.0.2.1].x",  # an address literal
]


@pytest.mark.parametrize("address", ONCE_DISAGREED)
def test_an_address_refused_for_recipients_is_refused_for_users_too(database, address):
    assert not is_email_address(address)
    with database.session() as session:
        acme = tenancy.create_tenant(session, "acme", "Acme")
        with pytest.raises(CxlabError, match="is not an e-mail address"):
            tenancy.create_user(session, acme, address, "a long passphrase")
        survey = publish_survey(session, acme, parse_definition(
            {"slug": "pulse", "title": "Pulse",
             "questions": [{"id": "nps", "type": "nps", "label": "NPS"}]}))
        valid, problems, _ = check_recipients(
            session, acme, survey, [RecipientRow(2, {"email": address})])
    assert valid == [] and [p.reason for p in problems] == [f"{address!r} is not an e-mail address"]


@pytest.mark.parametrize("address", ["ana@example.com", "Ana.Smith+news@mail.example.co.jp",
                                     "o'brien@example.ie"])
def test_plain_addresses_are_accepted_by_both(database, address):
    assert is_email_address(address)
    with database.session() as session:
        acme = tenancy.create_tenant(session, "acme", "Acme")
        assert tenancy.create_user(session, acme, address, "a long passphrase").email == (
            address.lower())


def test_an_address_longer_than_320_characters_is_refused():
    assert not is_email_address("a" * 310 + "@example.com")


@pytest.mark.parametrize("slug", ["acme", "acme-foods", "store_visit", "a" * 63, "7eleven"])
def test_a_good_slug_is_one_for_a_tenant_a_survey_and_the_store(database, slug):
    assert SLUG_PATTERN.match(slug)
    assert check_slug("tenant", slug) == slug
    with database.session() as session:
        assert tenancy.create_tenant(session, slug, "Tenant").slug == slug
    assert parse_definition({"slug": slug, "title": "T",
                             "questions": [{"id": "nps", "type": "nps", "label": "NPS"}]})


@pytest.mark.parametrize("slug", ["../acme", "Acme", "-acme", "_acme", "a" * 64, "acme foods",
                                  ""])
def test_a_bad_slug_is_refused_everywhere(database, slug):
    with pytest.raises(StoreNotFound):
        check_slug("tenant", slug)
    with database.session() as session, pytest.raises(CxlabError, match="lowercase letters"):
        tenancy.create_tenant(session, slug, "Tenant")
    with pytest.raises(DefinitionError):
        parse_definition({"slug": slug, "title": "T",
                          "questions": [{"id": "nps", "type": "nps", "label": "NPS"}]})
