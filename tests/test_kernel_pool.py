"""The warm kernel pool behind the dashboards: real kernels, started by the real manager.

A pooled kernel is handed out once and only after its warm-up succeeded; whatever
happens, a request still gets a kernel.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from cxlab.dashboards.kernels import DashboardBusy, WarmKernelManager

IMPORTED = "import sys; print('cxlab.dashboards.widget' in sys.modules)"


async def wait_until_warm(manager: WarmKernelManager, count: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while sum(task.done() for task in manager._warm) < count:
        assert time.monotonic() < deadline, "the pool did not warm up in time"
        await asyncio.sleep(0.2)


async def run_in(manager: WarmKernelManager, kernel_id: str, code: str) -> dict:
    client = manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=30)
        outputs: list[str] = []

        def keep(message: dict) -> None:
            if message["msg_type"] == "stream":
                outputs.append(message["content"]["text"])

        reply = await client.execute_interactive(code, timeout=30, output_hook=keep)
        return {"status": reply["content"]["status"], "output": "".join(outputs)}
    finally:
        client.stop_channels()


def test_warm_kernels_are_handed_out_once_and_replaced(tmp_path):
    pool_size = 2

    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path), pool_size=pool_size)
        manager.refill_delay = 0.0
        manager.prime(path="")
        await wait_until_warm(manager, 2)
        pooled = {task.result() for task in manager._warm}
        first = await manager.start_kernel(kernel_name="python3", path="")
        second = await manager.start_kernel(kernel_name="python3", path="")
        try:
            assert {first, second} == pooled and first != second
            # The warm-up ran: cxlab's dashboard code is already imported.
            ran = await run_in(manager, first, IMPORTED)
            assert ran == {"status": "ok", "output": "True\n"}
            await wait_until_warm(manager, 2)  # refilled with new kernels
            assert not {task.result() for task in manager._warm} & {first, second}
        finally:
            await manager.shutdown_all(now=True)

    asyncio.run(scenario())


def test_kernel_whose_warm_up_fails_is_never_handed_out(tmp_path):
    pool_size = 1

    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path), pool_size=pool_size)
        manager.warm_up_code = "raise RuntimeError('no warm-up today')"
        manager.prime(path="")
        await wait_until_warm(manager, 1)
        assert manager._warm[0].result() is None
        assert manager.list_kernel_ids() == []  # the failed kernel was shut down
        kernel = await manager.start_kernel(kernel_name="python3", path="")
        try:
            # A fresh kernel instead: it never ran the warm-up.
            ran = await run_in(manager, kernel, IMPORTED)
            assert ran == {"status": "ok", "output": "False\n"}
        finally:
            await manager.shutdown_all(now=True)

    asyncio.run(scenario())


def test_request_for_another_folder_gets_a_fresh_kernel(tmp_path):
    pool_size = 1
    (tmp_path / "elsewhere").mkdir()

    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path), pool_size=pool_size)
        manager.prime(path="")
        await wait_until_warm(manager, 1)
        pooled = manager._warm[0].result()
        kernel = await manager.start_kernel(kernel_name="python3", path="elsewhere")
        try:
            assert kernel != pooled and manager._warm[0].result() == pooled
        finally:
            await manager.shutdown_all(now=True)

    asyncio.run(scenario())


def test_pool_size_zero_starts_every_kernel_fresh(tmp_path):
    pool_size = 0

    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path), pool_size=pool_size)
        manager.prime(path="")
        assert manager._warm == []
        kernel = await manager.start_kernel(kernel_name="python3", path="")
        try:
            assert manager.list_kernel_ids() == [kernel] and manager._warm == []
        finally:
            await manager.shutdown_all(now=True)

    asyncio.run(scenario())


def test_a_kernel_that_died_in_the_pool_is_not_handed_out(tmp_path):
    pool_size = 1

    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path), pool_size=pool_size)
        manager.prime(path="")
        await wait_until_warm(manager, 1)
        dead = manager._warm[0].result()
        os.kill(manager.get_kernel(dead).provisioner.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while await manager.get_kernel(dead).is_alive():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        kernel = await manager.start_kernel(kernel_name="python3", path="")
        try:
            assert kernel != dead and dead not in manager.list_kernel_ids()
            ran = await run_in(manager, kernel, "print(6 * 7)")
            assert ran == {"status": "ok", "output": "42\n"}
        finally:
            await manager.shutdown_all(now=True)

    asyncio.run(scenario())


def test_caps_refuse_a_viewer_beyond_the_server_or_tenant_limit(tmp_path):
    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path), pool_size=0, max_kernels=3,
                                    max_kernels_per_tenant=2)
        manager.admit("alpha")
        manager.admit("alpha")
        with pytest.raises(DashboardBusy, match="alpha"):
            manager.admit("alpha")
        beta = manager.admit("beta")
        with pytest.raises(DashboardBusy, match="server"):
            manager.admit("gamma")
        manager.release(beta)  # a refused request gives its place back
        manager.admit("gamma")
        assert manager.viewers() == 3 and manager.viewers("alpha") == 2

    asyncio.run(scenario())


def test_the_warm_pool_fills_only_what_the_cap_leaves(tmp_path):
    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path), pool_size=2, max_kernels=2)
        manager.admit("alpha")
        manager.prime(path="")
        try:
            assert len(manager._warm) == 1  # one place is a viewer's
        finally:
            await asyncio.gather(*manager._warm)
            await manager.shutdown_all(now=True)

    asyncio.run(scenario())


async def wait_gone(manager: WarmKernelManager, kernel_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while kernel_id in manager.list_kernel_ids():
        assert time.monotonic() < deadline, f"kernel {kernel_id} still runs"
        await asyncio.sleep(0.2)


def test_a_viewers_kernel_nobody_connects_to_is_shut_down(tmp_path):
    """A page fetched without a browser: its kernel goes after the connect timeout, while
    a warm kernel, also unconnected, stays (it is the pool's, not the culler's)."""

    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path), pool_size=1, connect_timeout=1,
                                    sweep_interval=0.2, refill_delay=60,
                                    cull_idle_timeout=1, cull_interval=1)
        manager.prime(path="")
        await wait_until_warm(manager, 1)
        pooled = manager._warm[0].result()
        manager.admit("alpha")
        viewer = await manager.start_kernel(kernel_name="python3", path="")
        connected = manager.admit("alpha")
        kept = await manager.start_kernel(kernel_name="python3", path="")
        manager.initialize_culler()
        try:
            assert viewer == pooled and connected.kernel_id == kept
            manager.notify_connect(kept)
            await wait_gone(manager, viewer)
            # cull_idle_timeout also passed; without a page the kernel stayed idle.
            assert manager.viewers("alpha") == 1
            manager.prime(path="")  # a new warm kernel, idle and unconnected: kept
            await wait_until_warm(manager, 1)
            fresh = manager._warm[0].result()
            await asyncio.sleep(3)
            assert fresh in manager.list_kernel_ids()
        finally:
            await manager.shutdown_all(now=True)

    asyncio.run(scenario())


def test_a_closed_page_frees_its_kernel_after_the_grace_period(tmp_path):
    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path), pool_size=0, disconnect_grace=0.5)
        manager.admit("alpha")
        kernel = await manager.start_kernel(kernel_name="python3", path="")
        manager.admit("alpha")
        reconnected = await manager.start_kernel(kernel_name="python3", path="")
        try:
            for kernel_id in (kernel, reconnected):
                manager.notify_connect(kernel_id)
                manager.notify_disconnect(kernel_id)
            manager.notify_connect(reconnected)  # a network blip: back within the grace
            await wait_gone(manager, kernel)
            await asyncio.sleep(1.5)
            assert manager.list_kernel_ids() == [reconnected]
            assert manager.viewers() == 1
        finally:
            await manager.shutdown_all(now=True)

    asyncio.run(scenario())
