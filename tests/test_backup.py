"""``cxlab backup``: a verified online copy of a live SQLite database; PostgreSQL points
to pg_dump."""

from __future__ import annotations

import re
import sqlite3
import threading
from datetime import UTC, datetime

from cxlab.cli.backup import backup_command
from cxlab.config import Config
from cxlab.db.models import Response
from cxlab.seed import seed_responses
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import publish_survey
from cxlab.tenancy import create_tenant
from sqlalchemy import func, select

DEFINITION = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")


def _count(database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Response))


def test_a_backup_taken_while_responses_arrive_is_sound(config: Config, database, capsys):
    with database.session() as session:
        tenant = create_tenant(session, "acme", "Acme")
        survey = publish_survey(session, tenant, DEFINITION, status="open")
    seed_responses(database, survey, DEFINITION, 2000, seed=1)
    stop = threading.Event()
    inserted = []

    def keep_answering() -> None:
        # The survey server's writes: one committed response at a time.
        while not stop.is_set():
            with database.session() as session:
                session.add(Response(tenant_id=survey.tenant_id, survey_id=survey.id,
                                     survey_version=1, submitted_at=datetime.now(UTC),
                                     answers={"nps": 9}, attributes={}))
            inserted.append(1)

    writer = threading.Thread(target=keep_answering, daemon=True)
    writer.start()
    try:
        while len(inserted) < 20:
            stop.wait(0.01)
        committed_before = _count(database)
        destination = config.var_dir / "copies" / "live.db"
        assert backup_command(config, str(destination)) == 0
        assert len(inserted) > 0
    finally:
        stop.set()
        writer.join(timeout=10)
    out = capsys.readouterr().out
    assert "integrity_check ok" in out and str(destination) in out
    copy = sqlite3.connect(destination)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        copied = copy.execute("SELECT count(*) FROM responses").fetchone()[0]
    finally:
        copy.close()
    assert committed_before >= 2020
    assert committed_before <= copied <= _count(database)
    assert not list(destination.parent.glob("*.partial"))


def test_the_default_destination_is_a_timestamped_file_under_var_backups(config, database):
    assert backup_command(config, None) == 0
    [written] = (config.var_dir / "backups").iterdir()
    assert re.fullmatch(r"cxlab-\d{8}-\d{6}\.db", written.name)


def test_an_existing_destination_is_not_overwritten(config, database, capsys):
    destination = config.var_dir / "taken.db"
    destination.write_text("keep me")
    assert backup_command(config, str(destination)) == 1
    assert destination.read_text() == "keep me"
    assert "exists" in capsys.readouterr().err


def test_postgresql_gets_the_pg_dump_command_without_the_password(environ, capsys):
    config = Config.from_environ({**environ, "CXLAB_DATABASE_URL":
                                  "postgresql://cx:s3cret@db.internal:5432/cxlab"})
    assert backup_command(config, "/backups/cxlab.dump") == 2
    out = capsys.readouterr().out
    assert ("pg_dump --format=custom --file=/backups/cxlab.dump "
            "postgresql://cx@db.internal:5432/cxlab") in out
    assert "s3cret" not in out
