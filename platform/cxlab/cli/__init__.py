"""The ``cxlab`` command: a thin layer over the library, one module per command group.

This package is the only place that prints or picks an exit code: library functions
return reports (:class:`~cxlab.jobs.store_sync.StoreSyncReport`,
:class:`~cxlab.outbox.SendReport`, :class:`~cxlab.distribution.ImportReport`...) and
the commands here show them. Every command reads the configuration once (CXLAB_*
variables, see docs/configuration.md) and reports a :class:`~cxlab.errors.CxlabError`
as one line saying what to do next.
"""

from __future__ import annotations

import click

from cxlab.cli import (
    backup,
    demo,
    distribution,
    exports,
    jobs,
    loadtest,
    ops,
    org,
    outbox,
    serve,
    store,
    surveys,
    tenants,
    users,
)
from cxlab.cli.base import CxlabGroup


@click.group(cls=CxlabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cxlab")
def main() -> None:
    """cxlab: customer- and employee-experience surveys, analysed in Jupyter.

    \b
    Start with:  cxlab demo          (everything, on a local SQLite database)
    Or step by step:
      cxlab init
      cxlab tenant create acme --name "Acme Foods"
      cxlab survey load --tenant acme my_survey.yaml
    """


for command in (
    tenants.init, tenants.tenant, org.org_cli, users.user, users.apikey, surveys.survey,
    surveys.seed_command, distribution.distribution, outbox.send_cli, outbox.outbox,
    store.sync_cli, store.table_sql_cli, ops.check_cli,
    ops.ops, loadtest.loadtest_cli, loadtest.capacity_cli, backup.backup_cli, serve.serve,
    jobs.run_job_cli, jobs.jobs_cli, demo.demo, exports.export_cli,
):
    main.add_command(command)


if __name__ == "__main__":
    main()
