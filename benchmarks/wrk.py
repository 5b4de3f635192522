"""Driving a server with wrk, and what its processes cost: requests/s, latency
percentiles and errors from wrk's report, CPU time and memory from /proc.

The benchmarks run it as a sibling module (``from wrk import run_wrk``).

>>> parse_wrk("  50%  1.20ms\\n  99%   3.00ms\\n  1000 requests in 10.00s", 10)["rate"]
100.0
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

WRK_SCRIPT = """
local bodies, n, step = {}, 0, 1
wrk.method = "POST"
function setup(thread)
  thread:set("offset", #threads_seen)
  table.insert(threads_seen, thread)
end
threads_seen = {}
function init(args)
  if args[1] ~= nil then
    for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
    n = offset
    step = tonumber(args[2])
  end
end
function request()
  if #bodies > 0 then
    n = n + step
    return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])
  end
  return wrk.format()
end
"""


def run_wrk(wrk, options, url, folder, *, body=None, header=None, bodies_file=None,
            connections=None, delay_ms=None) -> dict:
    """One wrk run against ``url``; also the server processes' CPU time per request."""
    pids = server_pids(url.split("/", 3)[0] + "//" + url.split("/", 3)[2])
    cpu_before = cpu_seconds(pids)
    script = Path(folder) / "post.lua"
    lua = WRK_SCRIPT
    if delay_ms:
        lua += f"\nfunction delay() return {delay_ms} end\n"
    script.write_text(lua)
    command = [wrk, "-t2", f"-c{connections or options.connections}",
               f"-d{options.duration}s", "--latency", "-s", str(script)]
    if body is not None:
        command += ["-H", "Content-Type: application/json"]
        script.write_text(lua.replace('wrk.method = "POST"',
                                      f'wrk.method = "POST"\nwrk.body = [[{json.dumps(body)}]]'))
    else:
        command += ["-H", "Content-Type: application/x-www-form-urlencoded"]
    if header:
        command += ["-H", header]
    command.append(url)
    if bodies_file:
        command += ["--", str(bodies_file), "2"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = parse_wrk(output, options.duration)
    result["cpu_ms"] = 1000 * (cpu_seconds(pids) - cpu_before) / max(1, result["requests"])
    return result


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids`` so far (from /proc; 0 for a gone process)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def parse_wrk(output: str, duration: int) -> dict:
    """Requests, 2xx ones, errors, accepted/s and p50/p99 ms from wrk --latency's report."""
    def latency(percent: str) -> float:
        value, unit = re.search(rf"\s{percent}%\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    requests_done = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    failed = int(non_2xx.group(1)) if non_2xx else 0
    socket_errors = sum(int(g) for g in errors.groups()) if errors else 0
    return {"requests": requests_done, "ok": requests_done - failed, "non_2xx": failed,
            "socket_errors": socket_errors, "rate": (requests_done - failed) / duration,
            "p50_ms": latency("50"), "p99_ms": latency("99")}


def server_pids(base: str) -> list[int]:
    """The processes listening on ``base``'s port, and their children (granian's workers)."""
    port = base.rsplit(":", 1)[1]
    output = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True,
                            text=True).stdout
    master = [int(pid) for pid in re.findall(r"pid=(\d+)", output)]
    children = []
    for pid in master:
        children_file = Path(f"/proc/{pid}/task/{pid}/children")
        if children_file.exists():
            children += [int(child) for child in children_file.read_text().split()]
    return sorted(set(master + children))


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (0 for a gone process)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024
