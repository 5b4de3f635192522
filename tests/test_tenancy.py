"""Users, passwords and API keys: hashed, scoped to one tenant."""

import pytest
from cxlab import tenancy
from cxlab.db.models import ApiKey, User
from cxlab.errors import AlreadyExists, CxlabError
from sqlalchemy import select


@pytest.fixture
def two_tenants(database):
    with database.session() as session:
        tenancy.create_tenant(session, "acme", "Acme")
        tenancy.create_tenant(session, "rival", "Rival")
    return database


def test_passwords_are_stored_as_argon2_hashes(two_tenants):
    with two_tenants.session() as session:
        tenancy.create_user(session, tenancy.get_tenant(session, "acme"), "Ana@Acme.example",
                            "a long passphrase")
    with two_tenants.session() as session:
        user = session.scalars(select(User)).one()
        assert user.email == "ana@acme.example"
        assert user.password_hash.startswith("$argon2id$")
        assert tenancy.authenticate_user(session, "ana@acme.example", "a long passphrase")
        assert tenancy.authenticate_user(session, "ana@acme.example", "wrong one!!") is None
        assert tenancy.authenticate_user(session, "nobody@acme.example", "x") is None


def test_an_email_belongs_to_one_tenant_only(two_tenants):
    with two_tenants.session() as session:
        tenancy.create_user(session, tenancy.get_tenant(session, "acme"), "a@x.example",
                            "passphrase-1")
        with pytest.raises(AlreadyExists):
            tenancy.create_user(session, tenancy.get_tenant(session, "rival"), "a@x.example",
                                "passphrase-2")


@pytest.mark.parametrize(("email", "password"), [("not-an-email", "long enough!"),
                                                 ("a@b.example", "short")])
def test_bad_users_are_refused_with_a_reason(two_tenants, email, password):
    with two_tenants.session() as session, pytest.raises(CxlabError):
        tenancy.create_user(session, tenancy.get_tenant(session, "acme"), email, password)


def test_api_keys_are_hashed_and_name_their_tenant(two_tenants):
    with two_tenants.session() as session:
        _, acme_key = tenancy.create_api_key(session, tenancy.get_tenant(session, "acme"))
        _, rival_key = tenancy.create_api_key(session, tenancy.get_tenant(session, "rival"))
    with two_tenants.session() as session:
        assert all(acme_key not in row.key_hash for row in session.scalars(select(ApiKey)))
        assert tenancy.authenticate_api_key(session, acme_key).tenant_slug == "acme"
        assert tenancy.authenticate_api_key(session, rival_key).tenant_slug == "rival"
        forged = acme_key[:-4] + "AAAA"
        assert tenancy.authenticate_api_key(session, forged) is None
        assert tenancy.authenticate_api_key(session, "Bearer nonsense") is None


def test_a_revoked_key_no_longer_works(two_tenants):
    with two_tenants.session() as session:
        acme = tenancy.get_tenant(session, "acme")
        row, key = tenancy.create_api_key(session, acme)
        tenancy.revoke_api_key(session, acme, row.prefix)
    with two_tenants.session() as session:
        assert tenancy.authenticate_api_key(session, key) is None
