"""The sync of the analytic store as a whole job: copy new responses into the store,
bring the dashboards' opening views up to date, and optionally verify; what
``cxlab sync`` and the scheduler's ``sync`` job run.

It lives here, not in :mod:`cxlab.store`, because it joins two layers: the store
imports no dashboard code, and this module calls both. It prints nothing and picks no
exit code: it returns a :class:`StoreSyncReport` that the caller shows.

>>> from cxlab.config import Config
>>> import tempfile
>>> config = Config.from_environ({"CXLAB_VAR_DIR": tempfile.mkdtemp(), "CXLAB_ENV": "test"})
>>> from cxlab.db import Database
>>> Database(config.database_url).migrate()
>>> report = sync_store(config, verify=True, progress=False)
>>> report.ok, report.verification.checked, report.problems
(True, 0, [])
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tqdm import tqdm

from cxlab.config import Config
from cxlab.db import Database
from cxlab.notify import send_webhook
from cxlab.store.syncing import SyncReport, sync
from cxlab.store.verification import VerifyReport
from cxlab.store.verification import verify as verify_store


@dataclass
class StoreSyncReport:
    """What one sync job did: the sync itself, the dashboard snapshots it refreshed
    (and those it skipped, with why), and the verification when asked for."""

    sync: SyncReport
    snapshots_refreshed: int = 0
    snapshots_skipped: list[str] = field(default_factory=list)
    verification: VerifyReport | None = None

    @property
    def warnings(self) -> list[str]:
        """Quarantined part files and failed surveys, one line each (also what the
        webhook is sent)."""
        lines = [f"WARNING unreadable part file quarantined and rebuilt from the database: "
                 f"{path}" for path in self.sync.quarantined]
        return lines + [f"FAILED sync of {tenant}/{survey}: {reason}"
                        for tenant, survey, reason in self.sync.failures]

    @property
    def problems(self) -> list[str]:
        """Why the job did not succeed: failed surveys and verification gaps."""
        failed = [f"FAILED sync of {tenant}/{survey}: {reason}"
                  for tenant, survey, reason in self.sync.failures]
        gaps = [] if self.verification is None else [f"GAP {gap}" for gap in
                                                      self.verification.gaps]
        return failed + gaps

    @property
    def ok(self) -> bool:
        """True when every survey synced and, if verified, the store matches."""
        return not self.problems


def sync_store(
    config: Config,
    tenant: str | None = None,
    survey: str | None = None,
    verify: bool = False,
    progress: bool | None = None,
    snapshots: bool = True,
) -> StoreSyncReport:
    """Sync ``tenant``'s ``survey`` (or all), refresh the synced surveys' dashboard
    snapshots (``snapshots``), then verify the store against the database up to the
    sync's watermarks (``verify``). A survey whose sync fails does not stop the
    others; quarantined files and failures go to the chat webhook (CXLAB_WEBHOOK_URL)
    when one is set. A :class:`cxlab.errors.CxlabError` (unreachable store, unknown
    tenant) propagates. ``progress=None`` shows the bars only on a terminal.

    Example, with a migrated database::

        report = sync_store(config, tenant="acme", verify=True)
        report.sync.summary()   # 'synced 1 survey(s): 1,204 new responses in 0.4 s, ...'
        report.ok               # True
    """
    with Database.open(config, must_be_migrated=False) as database:
        synced = sync(database, config, tenant=tenant, survey=survey, progress=progress)
        report = StoreSyncReport(synced)
        if report.warnings:
            send_webhook(config.webhook_url, "cxlab sync:\n" + "\n".join(report.warnings))
        if snapshots:
            _refresh_dashboards(config, report, progress)
        if verify:
            watermarks = {(p.tenant, p.survey): p.watermark for p in synced.partitions}
            report.verification = verify_store(database, config, tenant=tenant, survey=survey,
                                               upto=watermarks)
    return report


def _refresh_dashboards(config: Config, report: StoreSyncReport, progress: bool | None) -> None:
    """Refresh the snapshots of the synced partitions into ``report``. A failure is
    recorded and skipped: the data is synced, and the dashboard then analyses on open."""
    from cxlab.dashboards.prepare import refresh_snapshots  # pandas and charts: only here

    partitions = [(p.tenant, p.survey) for p in report.sync.partitions]
    for tenant, survey in tqdm(partitions, unit=" survey", desc="dashboards",
                               disable=None if progress is None else not progress):
        try:
            report.snapshots_refreshed += refresh_snapshots(config, tenant, survey)
        except Exception as error:  # noqa: BLE001 - the data is synced; this only speeds up
            report.snapshots_skipped.append(
                f"dashboard snapshot of {tenant}/{survey} skipped "
                f"({type(error).__name__}: {error}); the dashboard analyses when "
                "opened instead")
