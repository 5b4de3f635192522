"""The warm kernel pool behind the dashboards: real kernels, started by the real manager.

A pooled kernel is handed out once and only after its warm-up succeeded; whatever
happens, a request still gets a kernel.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

from cxlab.kernel_pool import WarmKernelManager

IMPORTED = "import sys; print('cxlab.dashboard' in sys.modules)"


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


def test_warm_kernels_are_handed_out_once_and_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLAB_DASHBOARD_WARM_KERNELS", "2")

    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path))
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


def test_kernel_whose_warm_up_fails_is_never_handed_out(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLAB_DASHBOARD_WARM_KERNELS", "1")

    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path))
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


def test_request_for_another_folder_gets_a_fresh_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLAB_DASHBOARD_WARM_KERNELS", "1")
    (tmp_path / "elsewhere").mkdir()

    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path))
        manager.prime(path="")
        await wait_until_warm(manager, 1)
        pooled = manager._warm[0].result()
        kernel = await manager.start_kernel(kernel_name="python3", path="elsewhere")
        try:
            assert kernel != pooled and manager._warm[0].result() == pooled
        finally:
            await manager.shutdown_all(now=True)

    asyncio.run(scenario())


def test_pool_size_zero_starts_every_kernel_fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLAB_DASHBOARD_WARM_KERNELS", "0")

    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path))
        manager.prime(path="")
        assert manager._warm == []
        kernel = await manager.start_kernel(kernel_name="python3", path="")
        try:
            assert manager.list_kernel_ids() == [kernel] and manager._warm == []
        finally:
            await manager.shutdown_all(now=True)

    asyncio.run(scenario())


def test_a_kernel_that_died_in_the_pool_is_not_handed_out(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLAB_DASHBOARD_WARM_KERNELS", "1")

    async def scenario() -> None:
        manager = WarmKernelManager(root_dir=str(tmp_path))
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
