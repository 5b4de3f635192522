"""Issue #14, item 9: unsubscribe links are opaque (no address inside), signed,
long-lived and revocable."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy

import requests
from cxlab.config import Config
from cxlab.mail import opt_out_token
from cxlab.opt_out_links import revoke_opt_out_links
from cxlab.outbox import send_queued
from cxlab.tenancy import get_tenant
from test_distribution import VISIT, import_rows

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread


def _decodes_to(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return b""


def test_unsubscribe_links_are_opaque_signed_and_revocable(environ, database):
    publish_survey_with_key(database, "acme", VISIT)
    with serve_in_thread(create_app(Config.from_environ(environ), database,
                                    log_stream=None)) as base_url:
        config = Config.from_environ({**environ, "CXLAB_PUBLIC_URL": base_url})
        import_rows(database, config, b"email\nana@example.com\n")
        send_queued(database, config, rate=1000)
        (eml,) = (config.var_dir / "outbox").rglob("*.eml")
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        link = str(message["List-Unsubscribe"]).strip("<>")
        token = link.rsplit("/u/", 1)[1]
        # No part of the token, decoded or not, holds the address.
        for part in token.split("."):
            assert b"ana" not in _decodes_to(part).lower() and "ana" not in part.lower()
        page = requests.get(link, headers={"Accept-Language": "en"})
        assert page.status_code == 200 and "ana@example.com" in page.text
        forged = requests.get(link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB"))
        assert forged.status_code == 404

        with database.session() as session:
            assert revoke_opt_out_links(session, get_tenant(session, "acme").id,
                                        "ana@example.com") == 1
        assert requests.get(link).status_code == 404
        assert requests.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 404

        # The next e-mail gets a new link that works.
        import_rows(database, config, b"email\nana@example.com\n", name="June")
        send_queued(database, config, rate=1000)
        links = set()
        for path in (config.var_dir / "outbox").rglob("*.eml"):
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            links.add(str(parsed["List-Unsubscribe"]).strip("<>"))
        (fresh,) = links - {link}
        assert requests.post(fresh, data={"List-Unsubscribe": "One-Click"}).status_code == 200

        # Links in e-mails sent before opaque links keep unsubscribing their address.
        with database.session() as session:
            tenant_id = get_tenant(session, "acme").id
        legacy = f"{base_url}/u/{opt_out_token(config.secret_key, tenant_id, 'bo@example.com')}"
        assert requests.get(legacy).status_code == 200
