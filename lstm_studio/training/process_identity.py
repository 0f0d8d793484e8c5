"""Which process runs a run, recorded so that a reader can tell a run under way from one whose
process died (killed, crashed, the machine restarted) without ever finishing its record.

A process is named by its host, its pid and, where ``/proc`` exists, the clock tick it started at,
so a pid reused by a later process is not mistaken for the run's.
"""

from __future__ import annotations

import os
import socket


def _stat_fields(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None without /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def this_process() -> dict:
    """{"pid", "host", "started"}: this process, as run.json records it (``started`` may be None)."""
    fields = _stat_fields("self")
    return {"pid": os.getpid(), "host": socket.gethostname(), "started": int(fields[19]) if fields else None}


def process_gone(process: object) -> bool:
    """Whether the recorded process has certainly ended. A process on another host, or where
    this system cannot tell, counts as alive: a run is never called interrupted on a guess."""
    if not isinstance(process, dict) or process.get("host") != socket.gethostname():
        return False
    pid, started = process.get("pid"), process.get("started")
    if type(pid) is not int or pid <= 0 or os.name != "posix":  # on Windows os.kill would end the process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, but someone else's
        return False
    fields = _stat_fields(pid)
    if fields is None:
        return False
    return fields[0] in ("Z", "X") or (type(started) is int and int(fields[19]) != started)
