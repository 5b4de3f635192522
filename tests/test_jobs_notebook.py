"""Notebook jobs end to end: papermill per tenant in parallel, HTML export, a failing
tenant recorded with its cell, and the webhook received by a real HTTP server."""

import re
from pathlib import Path

import nbformat
from cxlab import tenancy
from cxlab.config import Config
from cxlab.db.models import JobRun, Tenant
from cxlab.jobs import run_job
from cxlab.jobs.schedule import DEFAULT_SCHEDULE_PATH, load_schedule, parse_schedule
from sqlalchemy import select

HERE = Path(__file__).parent
SCHEDULE = parse_schedule({"jobs": [
    {"name": "report", "kind": "notebook", "notebook": "notebooks/report.ipynb",
     "cron": "0 7 * * MON", "tenants": "all", "parameters": {"fail_for": "beta"},
     "formats": ["html", "ipynb"], "timeout": 60, "retries": 0, "retention": 30},
]}, root=HERE)


def test_one_failing_tenant_does_not_stop_the_others(environ, database, webhook, var_dir):
    url, received = webhook
    config = Config.from_environ({**environ, "CXLAB_WEBHOOK_URL": url})
    with database.session() as session:
        for slug, name in [("alpha", "Alpha Foods"), ("beta", "Beta Bistro"), ("gamma", "Gamma")]:
            tenancy.create_tenant(session, slug, name)
    old = var_dir / "reports" / "alpha" / "report" / "2026-01-05.html"
    old.parent.mkdir(parents=True)
    old.write_text("an old report past retention")

    outcome = run_job(config, database, "report", date="2026-11-25", schedule=SCHEDULE, workers=3)

    by_tenant = {result.tenant: result for result in outcome.results}
    assert {slug: result.status for slug, result in by_tenant.items()} == {
        "alpha": "succeeded", "beta": "failed", "gamma": "succeeded"}
    assert outcome.exit_code == 1

    html = var_dir / "reports" / "alpha" / "report" / "2026-11-23.html"
    assert by_tenant["alpha"].output_path == str(html)
    page = html.read_text()
    assert "<title>Alpha Foods — report — 2026-11-16 – 2026-11-23</title>" in page
    # Self-contained: nothing fetched from elsewhere when the report is opened.
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']?https?://""", page)
    assert "report for alpha from 2026-11-16" in page
    assert "if tenant ==" not in page  # code is not shown, only its output
    assert (html.parent / "2026-11-23.ipynb").exists()
    assert not old.exists()  # retention: older than 30 days
    assert not list(html.parent.glob(".*"))  # no temp files left behind

    beta = by_tenant["beta"]
    # cells: title, parameters, injected parameters, print, the failing one
    assert beta.cell_index == 4
    failed = Path(beta.output_path)
    assert failed.name == "2026-11-23.failed.ipynb"
    executed = nbformat.read(failed, as_version=4)
    errors = [output for cell in executed.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert [error.evalue for error in errors] == ["no data for beta"]
    assert not (failed.parent / "2026-11-23.html").exists()
    with database.session() as session:
        row = session.execute(select(JobRun).join(Tenant).where(Tenant.slug == "beta")).scalar()
        assert row.status == "failed" and row.output_path == str(failed)
        assert "cell 4 raised ValueError: no data for beta" in row.error

    [message] = received
    for part in ("report", "beta", "cell 4", "ValueError", "no data for beta",
                 "cxlab run-job report --tenant beta"):
        assert part in message["text"]


def test_the_shipped_weekly_report_runs_for_a_tenant(config, database, environ, monkeypatch):
    from cxlab.weekly_report import weekly_report
    from test_reports import END, START, seed_tenant

    for name, value in environ.items():  # the kernel reads its config from the environment
        monkeypatch.setenv(name, value)
    seed_tenant(config, database, "demo", "Sakura Dining", {"restaurant_visit.yaml": 3000})
    with database.session() as session:
        # No answers at all; its reports in English (the tenant's language setting).
        tenancy.create_tenant(session, "quiet", "Quiet Cafe", language="en")
    schedule = load_schedule(DEFAULT_SCHEDULE_PATH)
    outcome = run_job(config, database, "weekly-report", date="2026-11-23", schedule=schedule)
    assert outcome.exit_code == 0, outcome.summary()
    pages = {result.tenant: Path(result.output_path).read_text() for result in outcome.results}

    page = pages["demo"]
    assert "Sakura Dining — weekly-report — 2026-11-16 – 2026-11-23" in page  # <title>
    # In the tenant's language: its survey is Japanese first.
    assert "Sakura Dining — 週次 顧客体験レポート（2026-11-16 – 2026-11-23）" in page
    expected = weekly_report(config, "demo", None, START, END, tenant_name="Sakura Dining")
    [part] = expected.surveys
    assert f"今期のNPS：{part.nps['nps'].iloc[0]:+.1f}（95%区間" in page
    assert part.priorities
    for sentence in part.priorities:
        assert f"<li>{sentence}</li>" in page
    assert "<svg" in page  # the trend chart, inline
    assert "デモデータ" not in page and "Demo data" not in page  # never the demo fallback
    for code in ("weekly_report(", "from cxlab", "tenant_name="):
        assert code not in page.split("</style>")[-1]  # no code cells, only their output

    quiet = pages["quiet"]
    assert "Quiet Cafe — weekly customer-experience report" in quiet  # tenants.language
    assert "No answers this period" in quiet and "Demo data" not in quiet


def test_a_webhook_that_is_down_is_logged_not_raised(caplog):
    from cxlab.notify import send_webhook

    assert send_webhook("http://127.0.0.1:9/hook", "hello", timeout=2) is False
    assert "webhook http://127.0.0.1:9/hook failed" in caplog.text
