"""After a report job succeeds for a tenant: its PDF to the job's subscribers.

Only jobs users can subscribe to (:data:`cxlab.report_subscriptions.SUBSCRIBABLE_JOBS`)
deliver, and only when the tenant has subscribers: then the report is built again in
this process (:func:`cxlab.weekly_report.weekly_report`, same tenant, period and language as
the notebook), rendered once to ``<stem>.pdf`` beside the HTML, and queued to each
subscriber through the outbox (:func:`cxlab.report_mail.queue_report_mail`), once per
user, job and period.
"""

from __future__ import annotations

from cxlab.db import Database
from cxlab.jobs.kinds import RunContext, notebook_parameters
from cxlab.report_mail import queue_report_mail, write_pdf
from cxlab.report_subscriptions import SUBSCRIBABLE_JOBS, subscribers


def deliver_report(database: Database, context: RunContext, tenant_id: int | None) -> int:
    """Queue the run's report PDF to the tenant's subscribers; how many were queued."""
    job, tenant = context.job, context.tenant
    if job.name not in SUBSCRIBABLE_JOBS or tenant is None or tenant_id is None:
        return 0
    with database.session() as session:
        if not subscribers(session, tenant_id, job.name):
            return 0
    parameters = notebook_parameters(context)
    language = parameters["language"]
    directory = context.output_dir()
    directory.mkdir(parents=True, exist_ok=True)
    pdf = directory / f"{context.stem}.pdf"
    if not pdf.exists():
        # Imported here: the analysis and WeasyPrint are only needed for deliveries.
        from cxlab.report_pdf import report_pdf
        from cxlab.weekly_report import weekly_report

        report = weekly_report(context.config, tenant.slug, parameters.get("survey"),
                               context.start, context.end, tenant_name=tenant.name,
                               language=language)
        write_pdf(pdf, report_pdf(report))
    return queue_report_mail(
        database, tenant_id=tenant_id, tenant_name=tenant.name, job=job.name,
        language=language, period=context.period, period_start=context.start.isoformat(),
        reports_url=f"{context.config.public_url}/portal/reports?lang={language}", pdf=pdf,
    )
