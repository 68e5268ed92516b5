"""Worker processes of a node: started clean, bound to end with the node.

Two kinds of work run on other processes: the first pass of big batches
of records (``federation.inbox``) and the parsing of imported files
(``node.imports.parsing``). Both spawn their processes (never fork: the
node's process has threads, SQLite's and HTTP's, that a fork would copy
in the middle of their work) and start each one with ``worker_init``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

__all__ = ["worker_init", "cores"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def worker_init(parent: int) -> None:
    """A worker's start: deaf to Ctrl-C, and bound to end when the node's process ``parent`` ends.

    Ctrl-C reaches the whole process group: the node stops its workers
    itself. A node killed outright (SIGKILL, the OOM killer) stops nothing:
    its workers would wait for work forever, some 45 MB each. On Linux the
    kernel kills a worker when the thread that started it ends (the event
    loop's, which lives as long as the node); elsewhere a thread of the
    worker sees that it was given to another parent.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _killed_with_parent():
        threading.Thread(target=_watch_parent, args=(parent,), name="parent watch", daemon=True).start()
    if os.getppid() != parent:  # the node ended before the worker asked: no signal will come
        os._exit(0)


def _killed_with_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent ends; ``False`` where that cannot be asked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
