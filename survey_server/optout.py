"""The unsubscribe link of distribution e-mails: /u/<signed opaque token>.

GET shows a confirmation page (mail scanners follow links, so a GET changes nothing);
POST records the opt-out. The token is a signed random id that the opt_out_links
table maps to the tenant and the address (cxlab.opt_out_links); it is the only
authority needed: no cookie, no login. A mail program's one-click
unsubscribe (RFC 8058, ``List-Unsubscribe-Post``) POSTs to the same URL.
"""

from __future__ import annotations

from urllib.parse import quote

import bottle
from cxlab.distribution.opt_out import opt_out_tenant, record_opt_out
from cxlab.mail import read_opt_out_token
from cxlab.opt_out_links import read_opt_out_link

from survey_server import i18n
from survey_server.context import ServerContext, tag_request
from survey_server.pages import message_page, render, request_language


class OptOutPages:
    """The /u/<token> route, bound to one server's context."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context

    def install(self, app: bottle.Bottle) -> None:
        app.route("/u/<token>", ["GET", "POST"], self.opt_out)

    def opt_out(self, token: str) -> bottle.HTTPResponse:
        language = request_language()
        secret_key = self.context.config.secret_key
        with self.context.database.session() as session:
            claims = read_opt_out_link(session, secret_key, token)
        if claims is None:
            # Links in e-mails sent before opaque links (0013) keep working: they can
            # only ever unsubscribe the address they were sent to.
            claims = read_opt_out_token(secret_key, token)
        if claims is None:
            return message_page(404, language, "optout_title", "optout_bad_link",
                                message=i18n.text("optout_bad_link", language))
        tenant_id, email = claims
        database = self.context.database
        with database.session() as session:
            tenant = opt_out_tenant(session, tenant_id)
        if tenant is None:
            return message_page(404, language, "optout_title", "optout_bad_link")
        tenant_name, tenant_slug = tenant
        # The slug, as every other route logs it (the slow-tenant watch reads it).
        tag_request(tenant=tenant_slug)
        values = {"email": email, "tenant": tenant_name}
        title = i18n.text("optout_title", language)
        if bottle.request.method == "POST":
            with self.context.write_gate.writing(), database.session() as session:
                record_opt_out(session, tenant_id, email)
            return message_page(200, language, "optout_title", "optout_done",
                                message=i18n.text("optout_done", language, **values))
        return render(
            "optout.tpl", lang=language, title=title,
            message=i18n.text("optout_confirm", language, **values),
            button=i18n.text("optout_button", language),
            action=f"/u/{quote(token)}?lang={language}",
        )
