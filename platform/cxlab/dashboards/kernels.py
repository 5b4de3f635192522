"""Dashboard kernels: a warm pool, caps, and kernels that are freed when nobody uses them.

Voila's own preheating cannot be used with a prelaunch hook (it executes the notebook
before the request, so before the hook could parameterise it). :class:`WarmKernelManager`
pools at an earlier stage: kernels are started and run only
:data:`WARM_UP_CODE` (imports and a dry run of the chart code on made-up numbers, no
tenant's data); the hook then parameterises the notebook as before, and Voila executes
it in the warm kernel it is handed.

Tenancy: a pooled kernel has never seen a tenant's data, and each is handed out once.

A kernel handed to a page (a *viewer's* kernel) is shut down when

- its page closes or reloads: the websocket closes and does not come back within
  ``disconnect_grace`` seconds (Voila's own ``beforeunload`` shutdown request works too,
  now that the page carries the XSRF cookie it needs);
- its page never connects: no websocket ``connect_timeout`` seconds after the kernel
  last did anything (a link fetched by a script, a browser closed while loading);
- it idles: Jupyter's culler (``cull_idle_timeout``, connected pages included).

:meth:`WarmKernelManager.admit` caps viewers' kernels per server (``max_kernels``, the
warm pool included) and per tenant (``max_kernels_per_tenant``): the prelaunch hook asks
before a kernel starts and answers "busy" beyond the cap. Every limit comes from
:class:`cxlab.config.Config` as ``--WarmKernelManager.<trait>=`` arguments
(:func:`cxlab.dashboards.hook.voila_arguments`).

>>> WarmKernelManager.pool_size.default_value, "cxlab.dashboards.prepare" in WARM_UP_CODE
(2, True)
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import time
from dataclasses import dataclass, field
from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado.ioloop import PeriodicCallback
from traitlets import Float, Integer, Unicode

from cxlab.errors import CxlabError

WARM_UP_CODE = "import cxlab.dashboards.prepare\ncxlab.dashboards.prepare.warm_up()\n"
# A slot the hook took for the request being served; start_kernel turns it into a kernel.
_current_admission: contextvars.ContextVar[Admission | None] = contextvars.ContextVar(
    "cxlab_dashboard_admission", default=None)


class DashboardBusy(CxlabError):
    """Too many dashboards are open (on this server, or for this tenant) to start another."""


@dataclass
class Admission:
    """A viewer's place among the live kernels: taken before the kernel starts."""

    tenant: str
    taken_at: float = field(default_factory=time.monotonic)
    kernel_id: str | None = None
    connected: bool = False


class WarmKernelManager(AsyncMappingKernelManager):
    """A kernel manager that keeps ``pool_size`` started, warmed-up kernels ready, caps
    viewers' kernels, and shuts down the ones nobody is using."""

    pool_size = Integer(2, config=True, help="Kernels kept started and warmed up.")
    warm_up_code = Unicode(WARM_UP_CODE, config=True,
                           help="Code every pooled kernel runs before it is handed out.")
    refill_delay = Float(
        2.0, config=True,
        help="Seconds to wait after handing out a kernel before starting its replacement: "
             "a kernel start costs a core for a few seconds, which the page being "
             "rendered needs more.")
    max_kernels = Integer(
        20, config=True, help="Live kernels at most, the warm pool included (0: no cap).")
    max_kernels_per_tenant = Integer(
        8, config=True, help="Live viewers' kernels of one tenant at most (0: no cap).")
    connect_timeout = Float(
        30.0, config=True,
        help="Seconds a viewer's kernel may stay idle before its page first connects; "
             "then it is shut down.")
    disconnect_grace = Float(
        10.0, config=True,
        help="Seconds a viewer's kernel is kept after its page's last websocket closed, "
             "for a reconnect after a network blip.")
    sweep_interval = Float(2.0, config=True,
                           help="Seconds between checks for kernels nobody connected to.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._warm: list[asyncio.Task] = []
        self._pooled_ids: set[str] = set()  # warm kernels not handed out yet
        self._pool_kwargs: dict[str, Any] | None = None
        self._admissions: list[Admission] = []  # one per viewer: waiting or with a kernel
        self._sweeper: PeriodicCallback | None = None

    # -- admission: the prelaunch hook asks before Voila starts a kernel -------------

    def admit(self, tenant: str) -> Admission:
        """Take a viewer's place for ``tenant`` (for the request being served), or raise
        :class:`DashboardBusy` when the server or the tenant is at its cap."""
        self._forget_stale_admissions()
        # A viewer may take a warm kernel, so the pool does not count against viewers;
        # the pool only refills into what the viewers leave (see _refill).
        if self.max_kernels and len(self._admissions) >= self.max_kernels:
            raise DashboardBusy("the dashboard server is at its limit of open dashboards")
        of_tenant = sum(admission.tenant == tenant for admission in self._admissions)
        if self.max_kernels_per_tenant and of_tenant >= self.max_kernels_per_tenant:
            raise DashboardBusy(f"{tenant} is at its limit of open dashboards")
        admission = Admission(tenant)
        self._admissions.append(admission)
        _current_admission.set(admission)
        self._start_sweeper()
        return admission

    def release(self, admission: Admission) -> None:
        """Give back a place taken by :meth:`admit` for a request that was refused."""
        if admission in self._admissions:
            self._admissions.remove(admission)
        _current_admission.set(None)

    def viewers(self, tenant: str | None = None) -> int:
        """Viewers' kernels (and places taken for them), of ``tenant`` or of everyone."""
        return sum(tenant in (None, admission.tenant) for admission in self._admissions)

    def _forget_stale_admissions(self) -> None:
        # A place taken by a request that failed before its kernel started.
        now = time.monotonic()
        self._admissions = [
            admission for admission in self._admissions
            if admission.kernel_id is not None or now - admission.taken_at < 120
        ]

    # -- kernels -------------------------------------------------------------------

    async def start_kernel(self, *, kernel_id: str | None = None, path: str | None = None,
                           **kwargs: Any) -> str:
        """Hand out a warm kernel when one fits the request, else start one as usual.

        The first request fixes what the pool starts (kernel name and working
        directory); Voila asks for the same for every notebook of a flat folder. The
        kernel belongs to the place :meth:`admit` took for this request, if any.
        """
        admission = _current_admission.get()
        _current_admission.set(None)
        try:
            started = await self._start_or_hand_out(kernel_id=kernel_id, path=path, **kwargs)
        except BaseException:
            if admission is not None and admission in self._admissions:
                self._admissions.remove(admission)
            raise
        if admission is not None:
            admission.kernel_id = started
            admission.taken_at = time.monotonic()
        return started

    async def _start_or_hand_out(self, *, kernel_id: str | None, path: str | None,
                                 **kwargs: Any) -> str:
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

    async def shutdown_kernel(self, kernel_id: str, now: bool = False,
                              restart: bool = False) -> None:
        self._admissions = [a for a in self._admissions if a.kernel_id != kernel_id]
        self._pooled_ids.discard(kernel_id)
        if kernel_id not in self:
            return  # already gone: a second shutdown request (beacon and websocket close)
        await super().shutdown_kernel(kernel_id, now=now, restart=restart)

    def notify_connect(self, kernel_id: str) -> None:
        super().notify_connect(kernel_id)
        for admission in self._admissions:
            if admission.kernel_id == kernel_id:
                admission.connected = True

    def notify_disconnect(self, kernel_id: str) -> None:
        super().notify_disconnect(kernel_id)
        if self._kernel_connections.get(kernel_id, 0) <= 0:
            asyncio.ensure_future(self._shut_down_unless_reconnected(kernel_id))

    async def _shut_down_unless_reconnected(self, kernel_id: str) -> None:
        await asyncio.sleep(self.disconnect_grace)
        if kernel_id in self and self._kernel_connections.get(kernel_id, 0) <= 0:
            self.log.info("Page of kernel %s closed: shutting it down", kernel_id)
            await self.shutdown_kernel(kernel_id, now=True)

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        # Warm kernels wait unconnected and idle by design: they are not the culler's.
        if kernel_id not in self._pooled_ids:
            await super().cull_kernel_if_idle(kernel_id)

    def _start_sweeper(self) -> None:
        if self._sweeper is None:
            self._sweeper = PeriodicCallback(self._sweep_unconnected,
                                             1000 * self.sweep_interval)
            self._sweeper.start()

    async def _sweep_unconnected(self) -> None:
        """Shut down viewers' kernels whose page never connected within the timeout,
        counted from the kernel's last activity (it is busy while the page renders)."""
        for admission in list(self._admissions):
            kernel_id = admission.kernel_id
            if kernel_id is None or admission.connected or kernel_id not in self:
                continue
            kernel = self.get_kernel(kernel_id)
            last = getattr(kernel, "last_activity", None)
            idle = (time.time() - last.timestamp()) if last is not None else (
                time.monotonic() - admission.taken_at)
            idle = min(idle, time.monotonic() - admission.taken_at)
            if idle > self.connect_timeout and getattr(kernel, "execution_state", "") != "busy":
                self.log.info("No page connected to kernel %s: shutting it down", kernel_id)
                await self.shutdown_kernel(kernel_id, now=True)
        self._forget_stale_admissions()

    # -- the warm pool -------------------------------------------------------------

    async def _take_warm_kernel(self) -> str | None:
        # Only kernels that finished warming up are taken: one still starting is no
        # faster than a fresh start and would leave the pool empty for the next request.
        for task in list(self._warm):
            if task.done():
                self._warm.remove(task)
                kernel_id = task.result() if not task.exception() else None
                if kernel_id is None or kernel_id not in self:
                    continue
                self._pooled_ids.discard(kernel_id)
                if await self.get_kernel(kernel_id).is_alive():
                    return kernel_id
                # It died while waiting (e.g. out of memory): never hand out a dead one.
                self.log.warning("Warm kernel %s died in the pool", kernel_id)
                await self.shutdown_kernel(kernel_id, now=True)
        return None

    def _refill(self, delay: float = 0.0) -> None:
        missing = self.pool_size - len(self._warm)
        if self.max_kernels:
            # The pool never takes a place a viewer needs: it fills what the cap leaves.
            missing = min(missing, self.max_kernels - len(self._admissions) - len(self._warm))
        for _ in range(max(missing, 0)):
            self._warm.append(asyncio.ensure_future(self._start_warm_kernel(delay)))

    async def _start_warm_kernel(self, delay: float) -> str | None:
        await asyncio.sleep(delay)
        assert self._pool_kwargs is not None
        kernel_id = await super().start_kernel(
            path=self._pool_kwargs["path"], kernel_name=self._pool_kwargs["kernel_name"],
            env=dict(os.environ))
        self._pooled_ids.add(kernel_id)
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
        self._start_sweeper()
