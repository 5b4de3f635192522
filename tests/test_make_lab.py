"""`make lab` starts JupyterLab for any user, root included (it used to refuse as root)."""

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from conftest import free_port

PROJECT = Path(__file__).resolve().parents[1]


def test_make_lab_serves_jupyterlab_for_the_current_user(tmp_path):
    port = free_port()
    args = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
            "--ServerApp.token=cxlab-test --ServerApp.port_retries=0")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    log = (tmp_path / "lab.log").open("w")
    lab = subprocess.Popen(["make", "lab", f"LAB_ARGS={args}"], cwd=PROJECT, env=env,
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180  # generous: 2 shared cores
        status = None
        while time.monotonic() < deadline and lab.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/api/status?token=cxlab-test"
                with urllib.request.urlopen(url, timeout=5) as response:
                    status = response.status
                    break
            except OSError:
                time.sleep(0.5)
        output = (tmp_path / "lab.log").read_text()
        assert status == 200, f"JupyterLab did not serve (exit {lab.poll()}):\n{output[-2000:]}"
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGTERM)
            try:
                lab.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(lab.pid, signal.SIGKILL)
                lab.wait()
        log.close()
