"""Parsing an imported file on a worker process, within limits of memory and time.

A spreadsheet is a zip of XML: 1 MB of it can hold a 1 GB sheet, or a
million rows, or a cell in the last of 16 384 columns that pads every row.
Parsed on the node's process, such a file held the event loop for minutes
(``/health`` and every page stopped answering) and gigabytes of memory.
So the parsers (``node.imports``, pure and streaming, each with its own
bounds: ``ImportLimits``) run on one worker process whose address space is
capped (``RLIMIT_AS``) and which is killed past a time limit. What comes
back is the parsed result (``MappedItems``, ``NwipeLog``, ``Hardware``) or
an ``ImportFailed`` with a stable code; the node's process stays free.

The worker is spawned at the first import, like the record-checking
workers (``node.workers``), ends with the node, and stops after a minute
without work. One file is parsed at a time; the next waits its turn, and
its time limit runs only from when its parsing starts.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from node.imports import ImportFailed, parse_lshw, parse_nwipe, read_sheet
from node.imports.history import map_history
from node.imports.sheet import SheetLimits
from node.workers import worker_init

__all__ = ["ImportLimits", "parse_import", "stop_parser", "LIMITS"]

log = logging.getLogger(__name__)
IDLE = 60.0  # seconds without an import before the worker ends


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """How big a file the node parses: the sheet's bounds, and the worker's memory and time."""

    sheet: SheetLimits = SheetLimits()
    memory: int = 1024 * 1024 * 1024  # the worker's address space, bytes (its interpreter takes some 50 MB)
    seconds: float = 120.0  # a 50 000-row sheet takes ~10 s on a small box


LIMITS = ImportLimits()


def parse_file(kind: str, data: bytes, filename: str, sheet: SheetLimits, options: dict[str, Any] | None = None) -> Any:
    """What the worker runs: ``data`` parsed as ``kind`` (``items``, ``history``, ``nwipe``, ``lshw``).

    ``options`` of a sheet: ``columns`` (header -> field, ``node.imports.history``) and ``today``.
    """
    watch = _memory_watch()
    options = options or {}
    try:
        if kind in ("items", "history"):
            return map_history(read_sheet(data, filename, sheet, watch=watch), options.get("columns"),
                               today=options["today"], remembered=options.get("remembered"), watch=watch)  # fmt: skip
        text = data.decode("utf-8", errors="replace")
        return parse_nwipe(text) if kind == "nwipe" else parse_lshw(text)
    except MemoryError:
        reason = "the file needs more memory than the node gives an import: split it"
    except RecursionError:
        reason = "the file is nested too deeply to be read"
    # Raised out here, once the except block has dropped the error: its traceback holds the
    # frames that hold the memory, and the worker needs some back to send its answer.
    raise ImportFailed(None, reason, code="import_too_big")


_budget = 0  # the worker's soft limit, bytes of address space (0: none)


def _memory_watch() -> Callable[[], None] | None:
    """A check the parsers call as they go: past 3/4 of the cap, stop while memory is left to say so.

    At the hard cap (RLIMIT_AS) itself, Python has no memory left to unwind
    the parse cleanly and may spin on MemoryError until the time limit.
    """
    if not _budget:
        return None
    page = os.sysconf("SC_PAGE_SIZE")

    def watch() -> None:
        with open("/proc/self/statm", "rb") as statm:
            if int(statm.read().split()[0]) * page > _budget:
                raise MemoryError

    return watch


def _start_worker(parent: int, memory: int) -> None:
    global _budget
    worker_init(parent)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if os.path.exists("/proc/self/statm"):
            _budget = memory * 3 // 4
    except (ImportError, ValueError, OSError) as exc:  # not on Linux, or a lower hard limit already
        log.warning("import worker: cannot cap its memory (%r)", exc)


class _Parser:
    """The one worker process that parses imports, started when first needed."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._memory = 0
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.TimerHandle | None = None

    def _executor(self, memory: int) -> ProcessPoolExecutor:
        if self._pool is not None and self._memory != memory:
            self.stop()
        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(os.getpid(), memory))  # fmt: skip
            self._memory = memory
        return self._pool

    def _kill(self) -> None:
        """End the worker now, whatever it is doing (``shutdown`` alone waits for a running parse)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _stop_idle(self) -> None:
        self._idle = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=False)

    async def parse(self, kind: str, data: bytes, filename: str, limits: ImportLimits,
                    options: dict[str, Any] | None = None) -> Any:  # fmt: skip
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # a new loop (a test, a command)
            self._lock, self._loop = asyncio.Lock(), loop
        async with self._lock:
            if self._idle is not None:
                self._idle.cancel()
            pool = self._executor(limits.memory)
            try:
                future = loop.run_in_executor(pool, parse_file, kind, data, filename, limits.sheet, options)
                return await asyncio.wait_for(future, limits.seconds)
            except asyncio.TimeoutError:
                self._kill()
                raise ImportFailed(None, f"reading the file took more than {limits.seconds:.0f} s: split it",
                                   code="import_too_slow") from None  # fmt: skip
            except BrokenProcessPool:  # the worker died: out of memory, most likely
                self._kill()
                raise ImportFailed(None, "the file needs more memory than the node gives an import: split it",
                                   code="import_too_big") from None  # fmt: skip
            finally:
                if self._pool is not None:
                    self._idle = loop.call_later(IDLE, self._stop_idle)


_parser = _Parser()


async def parse_import(kind: str, data: bytes, filename: str, limits: ImportLimits = LIMITS,
                       options: dict[str, Any] | None = None) -> Any:  # fmt: skip
    """Parse ``data`` as ``kind`` on the worker; raise ``ImportFailed`` (with a stable code) if it cannot."""
    return await _parser.parse(kind, data, filename, limits, options)


def stop_parser() -> None:
    """Stop the worker (it also stops by itself when idle, and when the node's process ends)."""
    _parser.stop()
