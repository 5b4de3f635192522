"""The portal's distribution upload, for a tenant's admins: upload a recipient CSV,
see its preview, confirm it (a signed reference to the kept file) to create the
distribution and queue its e-mails.

The tenant is always the session's: a reference signed for another tenant, or a
file already used, is not found.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import bottle
from cxlab import distribution
from cxlab.distribution import mailing, recipients
from cxlab.errors import CxlabError, NotFound
from cxlab.portal_auth import PortalUser
from cxlab.surveys.catalog import get_survey_by_id, list_surveys

from survey_server import i18n
from survey_server.context import ServerContext
from survey_server.pages import message_page, redirect, survey_title, url_in_language
from survey_server.portal_access import PortalAccess, Visit, signed_in
from survey_server.portal_tokens import UPLOAD_AGE, UploadReferences

NEW_URL = "/portal/distributions/new"
PREVIEW_ROWS = 10
MAX_DISTRIBUTION_NAME = 200
MAX_REMINDER_DAYS = 365


class DistributionUpload:
    """The /portal/distributions/new and …/confirm routes, bound to one server."""

    def __init__(self, context: ServerContext, access: PortalAccess) -> None:
        self.context = context
        self.config = context.config
        self.database = context.database
        self.access = access
        self.uploads = UploadReferences(context.config.secret_key)

    def install(self, app: bottle.Bottle) -> None:
        handled = [self.access.not_found_as_page]
        app.route(NEW_URL, ["GET", "POST"], self.new_distribution, apply=handled)
        app.post("/portal/distributions/confirm", callback=self.confirm_distribution,
                 apply=handled)

    @signed_in("admin", csrf_back=NEW_URL, multipart=True)
    def new_distribution(self, visit: Visit) -> bottle.HTTPResponse:
        """GET the upload form; POST a CSV to see its preview."""
        user, language = visit.user, visit.language
        with self.database.session() as session:
            surveys = [survey for survey, _slug, _count in list_surveys(session, user.tenant)]
        if bottle.request.method != "POST":
            return self._upload_page(visit, surveys)
        choice = distribution_choice(visit)
        upload = bottle.request.files.get("recipients")
        # Size: the app's body limit (CXLAB_MAX_BODY_BYTES) refused a larger request.
        data = upload.file.read() if upload else b""
        survey = next((s for s in surveys if s.slug == choice["survey"]), None)
        error = (
            "upload_survey_missing" if survey is None
            else "upload_name_missing" if not choice["name"]
            else "upload_reminder_invalid" if choice["reminder"] == -1
            else "upload_file_missing" if not data
            else None
        )
        if error is not None:
            return self._upload_page(visit, surveys, 422, choice=choice,
                                     error=i18n.text(error, language))
        try:
            rows = recipients.parse_recipients(data)
        except recipients.ImportRefused as refused:
            return self._upload_page(visit, surveys, 422, choice=choice, error=str(refused))
        with self.database.session() as session:
            valid, problems, opted_out = recipients.check_recipients(
                session, user.tenant, survey, rows)
        file_name = store_upload(self._upload_dir(user), data)
        reference = self.uploads.issue(
            user.tenant.id, file_name, survey.id, choice["name"], choice["reminder"])
        columns = [recipients.EMAIL_COLUMN, *sorted(
            {name for row in valid for name in row.values} - {recipients.EMAIL_COLUMN})]
        return self.access.page(
            "portal_distribution_preview.tpl", language, visit.claims,
            survey_title=survey_title(survey, language),
            name=choice["name"], reminder=choice["reminder"], rows=len(rows),
            valid=len(valid), problems=[str(p) for p in problems],
            opted_out=[str(p) for p in opted_out], columns=columns,
            first_rows=[[row.values.get(c, "") for c in columns]
                        for row in valid[:PREVIEW_ROWS]],
            reference=reference,
            confirm_url=url_in_language("/portal/distributions/confirm", language),
            back_url=url_in_language(NEW_URL, language),
        )

    @signed_in("admin", csrf_back=NEW_URL)
    def confirm_distribution(self, visit: Visit) -> bottle.HTTPResponse:
        """Create the previewed distribution and queue its e-mails at once."""
        user, language = visit.user, visit.language
        upload = self.uploads.read(visit.field("reference"))
        # The tenant is the session's; a reference from another tenant is not found.
        if upload is None or upload.tenant_id != user.tenant.id:
            raise NotFound("no such upload")
        path = self._upload_dir(user) / upload.file_name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound("upload already used or expired") from None
        try:
            with self.context.write_gate.writing(), self.database.session() as session:
                survey = get_survey_by_id(session, user.tenant.id, upload.survey_id)
                report = distribution.create_distribution(
                    session, user.tenant, survey, upload.name,
                    recipients.parse_recipients(data),
                    reminder_after_days=upload.reminder_after_days)
                mailing.queue_invitations(session, self.config, user.tenant,
                                               report.distribution)
                created = report.distribution.id
        except NotFound:
            raise
        except CxlabError as error:
            return message_page(422, language, "upload_refused_title", "upload_refused",
                                message=str(error), link=url_in_language(NEW_URL, language),
                                link_key="back_to_upload")
        # Gone once used: confirming twice cannot make a second distribution.
        path.unlink(missing_ok=True)
        return redirect(f"/portal/distributions/{created}", language)

    def _upload_page(
        self, visit: Visit, surveys: list, status: int = 200, *,
        choice: dict[str, Any] | None = None, error: str = "",
    ) -> bottle.HTTPResponse:
        language = visit.language
        return self.access.page(
            "portal_distribution_new.tpl", language, visit.claims, status,
            surveys=[{"slug": survey.slug, "title": survey_title(survey, language)}
                     for survey in surveys],
            choice=choice or {"survey": "", "name": "", "reminder": None}, error=error,
            action=url_in_language(NEW_URL, language),
            home_url=url_in_language("/portal/", language),
            max_megabytes=f"{self.config.max_body_bytes / 1_000_000:g}",
        )

    def _upload_dir(self, user: PortalUser) -> Path:
        return self.config.var_dir / "uploads" / user.tenant.slug


def store_upload(folder: Path, data: bytes) -> str:
    """Keep ``data`` under a random name in ``folder``; drops uploads whose preview
    has expired. Returns the file's name.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> name = store_upload(folder, b"email\\na@example.com\\n")
    >>> len(name), (folder / name).read_bytes()
    (36, b'email\\na@example.com\\n')
    """
    folder.mkdir(parents=True, exist_ok=True)
    expired = time.time() - UPLOAD_AGE.total_seconds()
    for old in folder.glob("*.csv"):
        if old.stat().st_mtime < expired:
            old.unlink(missing_ok=True)
    name = f"{secrets.token_hex(16)}.csv"
    (folder / name).write_bytes(data)
    return name


def distribution_choice(visit: Visit) -> dict[str, Any]:
    """The upload form's survey, name and reminder delay (None: no reminder; -1: not
    a whole number of days from 1 to MAX_REMINDER_DAYS).

    >>> form = {"survey": [" visit "], "name": ["May"], "reminder_after_days": ["400"]}
    >>> distribution_choice(Visit(None, None, "en", form))
    {'survey': 'visit', 'name': 'May', 'reminder': -1}
    """
    reminder_text = visit.field("reminder_after_days").strip()
    reminder: int | None = None
    if reminder_text:
        # isascii(): "¹" and "١" are digits to isdigit() but not to int() (a 500).
        whole = reminder_text.isascii() and reminder_text.isdigit()
        reminder = int(reminder_text) if whole else -1
        if not 1 <= reminder <= MAX_REMINDER_DAYS:
            reminder = -1
    return {
        "survey": visit.field("survey").strip(),
        "name": visit.field("name").strip()[:MAX_DISTRIBUTION_NAME],
        "reminder": reminder,
    }
