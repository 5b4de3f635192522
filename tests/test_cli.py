"""The cxlab command end to end, as a subprocess in a private folder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cxlab import org, tenancy
from cxlab.db.models import Response
from cxlab.surveys import EXAMPLES_DIR
from sqlalchemy import func, select

CXLAB = str(Path(sys.executable).with_name("cxlab"))


@pytest.fixture
def cxlab(tmp_path, environ):
    """Run ``cxlab ARGS`` in tmp_path; returns the finished process."""

    def run(*args, stdin="", expect_ok=True):
        process = subprocess.run(
            [CXLAB, *args], cwd=tmp_path, input=stdin, capture_output=True, text=True,
            env={**os.environ, **environ}, timeout=120,
        )
        assert "Traceback" not in process.stderr, process.stderr
        if expect_ok:
            assert process.returncode == 0, process.stderr
        else:
            assert process.returncode != 0, process.stdout
        return process

    return run


def test_a_tenant_from_nothing_to_seeded_survey(cxlab, config, database):
    assert "Database ready" in cxlab("init").stdout
    cxlab("init")
    cxlab("tenant", "create", "acme", "--name", "Acme Foods")
    cxlab("user", "create", "--tenant", "acme", "ana@acme.example", stdin="long passphrase\n")
    key = cxlab("apikey", "create", "--tenant", "acme").stdout.strip()
    cxlab("survey", "load", "--tenant", "acme", str(EXAMPLES_DIR / "restaurant_visit.yaml"))
    seeded = cxlab("seed", "--tenant", "acme", "--survey", "store-visit", "--responses", "1500",
                   "--start", "2026-01-01", "--end", "2026-02-01")
    assert "Added 1,500 responses" in seeded.stdout
    assert "wait_time, staff_friendliness, food_quality" in seeded.stdout
    listing = cxlab("survey", "list", "--tenant", "acme").stdout
    assert "store-visit" in listing and "1,500" in listing
    with database.session() as session:
        assert tenancy.authenticate_api_key(session, key).tenant_slug == "acme"
        assert tenancy.authenticate_user(session, "ana@acme.example", "long passphrase")
        assert session.scalar(select(func.count()).select_from(Response)) == 1500


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("tenant", "create", "Bad Slug", "--name", "x"), "", "lowercase letters"),
        (("survey", "load", "--tenant", "nobody", str(EXAMPLES_DIR / "restaurant_visit.yaml")),
         "", "cxlab tenant create nobody"),
        (("user", "create", "--tenant", "acme", "ana@acme.example"), "short\n", "at least 10"),
        (("seed", "--tenant", "acme", "--survey", "nope", "--responses", "5"), "",
         "cxlab survey list --tenant acme"),
        (("seed", "--tenant", "acme", "--survey", "nope", "--responses", "5", "--start", "soon"),
         "", "not a date"),
        (("survey", "check", "missing.yaml"), "", "cannot read the file"),
    ],
)
def test_bad_input_gets_a_message_that_says_what_to_do(cxlab, args, stdin, message):
    cxlab("init")
    cxlab("tenant", "create", "acme", "--name", "Acme")
    failed = cxlab(*args, stdin=stdin, expect_ok=False)
    assert message in failed.stderr


def test_commands_before_init_say_to_run_init(cxlab):
    assert "run cxlab init" in cxlab("tenant", "list", expect_ok=False).stderr


def test_a_bad_setting_is_named(cxlab, environ):
    environ["CXLAB_DATABASE_URL"] = "mysql://root@localhost/cx"
    assert "CXLAB_DATABASE_URL" in cxlab("init", expect_ok=False).stderr


def test_survey_check_reports_every_problem_with_its_path(cxlab, tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "slug: s\ntitle: T\nquestions:\n  - {id: q, type: rating, label: Q, scale: 12}\n"
        "  - {id: r, type: nope, label: R}\n", encoding="utf-8")
    stderr = cxlab("survey", "check", "bad.yaml", expect_ok=False).stderr
    assert "questions[1].scale: must be 2..11 points" in stderr
    assert "questions[2].type: 'nope' is not a question type" in stderr


def test_demo_sets_everything_up_once(cxlab, database):
    first = cxlab("demo", "--no-serve").stdout
    assert "demo@example.com / demo-password" in first
    assert "http://127.0.0.1:8080/s/demo/store-visit" in first
    assert "store matches the database" in first
    cxlab("demo", "--no-serve")
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(Response))
        assert tenancy.authenticate_user(session, "hr@example.com", "demo-password")
        shibuya = tenancy.authenticate_user(session, "shibuya@example.com", "demo-password")
        assert org.user_scope(session, shibuya.id) == ("shibuya-01",)
    assert "scoped to kanto: login kanto@example.com / demo-password" in first
    assert total == 50_000 + 3_000


def test_a_tenants_report_language_is_set_at_creation_and_changed_later(cxlab, database):
    cxlab("init")
    cxlab("tenant", "create", "acme", "--name", "Acme", "--language", "en")
    cxlab("tenant", "create", "kita", "--name", "Kita")
    with database.session() as session:
        assert tenancy.get_tenant(session, "acme").language == "en"
        assert tenancy.get_tenant(session, "kita").language == "ja"
    cxlab("tenant", "set-language", "kita", "en")
    with database.session() as session:
        assert tenancy.get_tenant(session, "kita").language == "en"
    assert "use one of ja, en" in cxlab("tenant", "set-language", "kita", "fr",
                                        expect_ok=False).stderr
    assert "use one of ja, en" in cxlab("tenant", "create", "x", "--name", "X", "--language",
                                        "de", expect_ok=False).stderr
    assert "no tenant 'nobody'" in cxlab("tenant", "set-language", "nobody", "en",
                                         expect_ok=False).stderr
