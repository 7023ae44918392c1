"""Live gauges of dead core workers, dropped: what gunicorn's `child_exit` hook would do, without gunicorn.

A `livesum` gauge (bankbot_live_streams_open) counts only processes that are alive, and prometheus_client
learns that a process died only from `multiprocess.mark_process_dead(pid)`. Uvicorn has no hook for a
dead worker, but its supervisor starts a new one in its place: each public worker, at start-up, sweeps the
live-gauge files whose process is gone. Only live-gauge files are touched (counters and histograms of dead
workers stay in the sums, as they must). Safe because only the public app writes live gauges and all its
workers share one machine (one container in compose): a pid that is not alive here is dead. A pid reused
by another process is taken as alive, and its stale file stays until the next sweep or stack start.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from prometheus_client import multiprocess

_LIVE_FILE = re.compile(r"^gauge_live[a-z]+_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep_dead_live_gauges(directory: str | None = None) -> list[int]:
    """mark_process_dead for each pid whose live-gauge file remains but whose process is gone; those pids."""
    directory = directory or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory or not Path(directory).is_dir():
        return []
    pids = {int(m.group(1)) for name in os.listdir(directory) if (m := _LIVE_FILE.match(name))}
    dead = sorted(pid for pid in pids if pid != os.getpid() and not _alive(pid))
    for pid in dead:
        multiprocess.mark_process_dead(pid, directory)
    return dead
