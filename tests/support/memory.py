"""Run ``python -m tracestore`` in a fresh interpreter and measure it: seconds, peak RSS, peak private memory.

RSS also counts the pages of files a process maps (LMDB's ``data.mdb``), which are the OS's
page cache, shared and reclaimable; the private (anonymous) memory is what a copy holds
itself.  It is sampled every 10 ms; the peak RSS is the kernel's ``VmHWM`` (``ru_maxrss``
would keep the forking parent's RSS across ``exec``).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from typing import Any, Dict, List, NamedTuple

ROOT = pathlib.Path(__file__).resolve().parents[2]

_CHILD = """
import json, sys, threading, time
from tracestore.__main__ import main
import reference_stores.sqlite, reference_stores.lmdb, reference_stores.postgres
def status_kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
peak, done = [status_kib("RssAnon")], threading.Event()
def sample():
    while not done.wait(0.01):
        peak[0] = max(peak[0], status_kib("RssAnon"))
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
argv = json.loads(sys.argv[1])
start, cpu = time.perf_counter(), time.process_time()
code = main(argv) if argv else 0
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
done.set()
sampler.join()
peak[0] = max(peak[0], status_kib("RssAnon"))
result = {"code": code, "seconds": seconds, "cpu": cpu, "rss": status_kib("VmHWM"), "private": peak[0]}
print(json.dumps(result))
"""


class Measured(NamedTuple):
    seconds: float  # wall time
    cpu_seconds: float  # this process's CPU time: the measure on a shared machine
    peak_rss_mib: float
    peak_private_mib: float


def measure_main(argv: List[str], timeout: float = 3600) -> Measured:
    """``tracestore.__main__.main(argv)`` in a child (only the imports, for an empty argv); must exit 0."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"python -m tracestore {' '.join(argv)} failed:\n{done.stderr}")
    result: Dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise RuntimeError(f"python -m tracestore {' '.join(argv)} exited {result['code']}:\n{done.stderr}")
    return Measured(result["seconds"], result["cpu"], result["rss"] / 1024, result["private"] / 1024)
