"""Warm kernels for Voila: a dashboard request takes a kernel that has already started
and imported cxlab, instead of waiting 3–4 s for a fresh one.

Voila's own preheating cannot be used with a prelaunch hook (it executes the notebook
before the request, so before the hook could parameterise it). :class:`WarmKernelManager`
pools at an earlier stage: kernels are started and run only
:data:`WARM_UP_CODE` (imports and a dry run of the chart code on made-up numbers, no
tenant's data); the hook then parameterises the notebook as before, and Voila executes
it in the warm kernel it is handed.

Tenancy: a pooled kernel has never seen a tenant's data, and each is handed out once.
After the page is closed Voila shuts it down as usual; the pool starts a new one.

Served with ``--VoilaConfiguration.multi_kernel_manager_class=cxlab.kernel_pool.WarmKernelManager``
(see :func:`cxlab.voila_hook.voila_arguments`); the pool size comes from
``CXLAB_DASHBOARD_WARM_KERNELS`` (default 2; 0 turns pooling off).

>>> WarmKernelManager.pool_size.default_value, "cxlab.dashboard" in WARM_UP_CODE
(2, True)
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Float, Integer, Unicode, default

from cxlab.errors import CxlabError

WARM_UP_CODE = "import cxlab.dashboard\ncxlab.dashboard.warm_up()\n"


def warm_kernels_setting(environ: dict[str, str] | None = None) -> int:
    """``CXLAB_DASHBOARD_WARM_KERNELS`` (default 2), or a :class:`CxlabError` that says
    what to set.

    >>> warm_kernels_setting({}), warm_kernels_setting({"CXLAB_DASHBOARD_WARM_KERNELS": "0"})
    (2, 0)
    >>> try:
    ...     warm_kernels_setting({"CXLAB_DASHBOARD_WARM_KERNELS": "many"})
    ... except CxlabError as error:
    ...     print(error)
    CXLAB_DASHBOARD_WARM_KERNELS must be a whole number from 0 to 32 (got 'many'); ...
    """
    raw = (os.environ if environ is None else environ).get("CXLAB_DASHBOARD_WARM_KERNELS", "2")
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= 32:
        raise CxlabError(f"CXLAB_DASHBOARD_WARM_KERNELS must be a whole number from 0 to 32 "
                         f"(got {raw!r}); 2 suits most servers")
    return value


class WarmKernelManager(AsyncMappingKernelManager):
    """A kernel manager that keeps ``pool_size`` started, warmed-up kernels ready."""

    pool_size = Integer(2, config=True, help="Kernels kept started and warmed up.")
    warm_up_code = Unicode(WARM_UP_CODE, config=True,
                           help="Code every pooled kernel runs before it is handed out.")
    refill_delay = Float(
        2.0, config=True,
        help="Seconds to wait after handing out a kernel before starting its replacement: "
             "a kernel start costs a core for a few seconds, which the page being "
             "rendered needs more.")

    @default("pool_size")
    def _pool_size_from_environment(self) -> int:
        return warm_kernels_setting()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._warm: list[asyncio.Task] = []
        self._pool_kwargs: dict[str, Any] | None = None

    async def start_kernel(self, *, kernel_id: str | None = None, path: str | None = None,
                           **kwargs: Any) -> str:
        """Hand out a warm kernel when one fits the request, else start one as usual.

        The first request fixes what the pool starts (kernel name and working
        directory); Voila asks for the same for every notebook of a flat folder.
        """
        wanted = {"kernel_name": kwargs.get("kernel_name"), "path": path}
        if kernel_id is None and self.pool_size > 0:
            if self._pool_kwargs is None:
                self._pool_kwargs = wanted
            if wanted == self._pool_kwargs:
                warm = await self._take_warm_kernel()
                self._refill(delay=self.refill_delay)
                if warm is not None:
                    self.log.info("Handing out warm kernel %s", warm)
                    return warm
        return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)

    async def _take_warm_kernel(self) -> str | None:
        # Only kernels that finished warming up are taken: one still starting is no
        # faster than a fresh start and would leave the pool empty for the next request.
        for task in list(self._warm):
            if task.done():
                self._warm.remove(task)
                kernel_id = task.result() if not task.exception() else None
                if kernel_id is None or kernel_id not in self:
                    continue
                if await self.get_kernel(kernel_id).is_alive():
                    return kernel_id
                # It died while waiting (e.g. out of memory): never hand out a dead one.
                self.log.warning("Warm kernel %s died in the pool", kernel_id)
                await self.shutdown_kernel(kernel_id, now=True)
        return None

    def _refill(self, delay: float = 0.0) -> None:
        missing = self.pool_size - len(self._warm)
        for _ in range(max(missing, 0)):
            self._warm.append(asyncio.ensure_future(self._start_warm_kernel(delay)))

    async def _start_warm_kernel(self, delay: float) -> str | None:
        await asyncio.sleep(delay)
        assert self._pool_kwargs is not None
        kernel_id = await super().start_kernel(
            path=self._pool_kwargs["path"], kernel_name=self._pool_kwargs["kernel_name"],
            env=dict(os.environ))
        client = self.get_kernel(kernel_id).client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            reply = await client.execute_interactive(self.warm_up_code, timeout=120,
                                                     output_hook=lambda _message: None)
        except Exception as error:  # a kernel that cannot warm up is never handed out
            self.log.warning("Warm-up of kernel %s failed: %s", kernel_id, error)
            await self.shutdown_kernel(kernel_id, now=True)
            return None
        finally:
            client.stop_channels()
        if reply["content"]["status"] != "ok":
            self.log.warning("Warm-up code failed in kernel %s: %s", kernel_id,
                             reply["content"].get("evalue", ""))
            await self.shutdown_kernel(kernel_id, now=True)
            return None
        return kernel_id

    def prime(self, *, path: str, kernel_name: str = "python3") -> None:
        """Start filling the pool now, before the first request (call when serving)."""
        if self.pool_size > 0:
            self._pool_kwargs = {"kernel_name": kernel_name, "path": path}
            self._refill()
