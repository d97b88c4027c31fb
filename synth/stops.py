"""Clean stops: Ctrl-C (SIGINT) and SIGTERM end a command with one line and exit 130 / 143.

The synth process turns either signal into :class:`Interrupted`, which unwinds a build like an error
(atomic writes leave no half file, the out_dir lock is released) and which the CLI prints as
``interrupted: N of M items written; rerun the same command to resume``. A rerun resumes.

Worker processes leave stopping to the process that started them: they ignore both signals (Ctrl-C in
a terminal reaches the whole process group), the pool kills them when the build stops, and they die
with their parent if it is killed outright (Linux: ``PR_SET_PDEATHSIG``; everywhere: a watchdog on the
parent pid), so no worker outlives its build.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Interrupted(BaseException):
    """SIGINT or SIGTERM reached synth. A BaseException like KeyboardInterrupt, so that no
    ``except Exception`` on the way up swallows it. ``progress`` ("N of M items written") is filled in
    by whoever knows it (the out_dir claim)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.progress: str | None = None

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        return f"interrupted{': ' + self.progress if self.progress else ''}; rerun the same command to resume"


@contextmanager
def signals_interrupt():
    """Within the block SIGINT and SIGTERM raise :class:`Interrupted` in the main thread (or, inside a
    :func:`signals_deferred` block, as it ends); once raised, further signals are ignored until the block
    is left, so the unwinding itself is not cut short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {"depth": 0, "signum": None}  # deferral state, kept on the handler (signals are per process)

    def handler(signum, frame):
        if held["depth"]:
            held["signum"] = held["signum"] or signum
            return
        for s in SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    handler.held = held
    old = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextmanager
def signals_deferred():
    """Hold an interrupt back until the block ends. For calls during which C code calls back into Python
    (soundfile on an in-memory file: cffi prints an exception raised in a callback and carries on), where
    the :class:`Interrupted` of :func:`signals_interrupt` would be swallowed and the build would run on with
    further signals ignored. The delay is the block's length (one encode)."""
    held = getattr(signal.getsignal(signal.SIGINT), "held", None)
    if held is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    held["depth"] += 1
    try:
        yield
    finally:
        held["depth"] -= 1
        if not held["depth"] and held["signum"]:
            signum, held["signum"] = held["signum"], None
            for s in SIGNALS:
                signal.signal(s, signal.SIG_IGN)
            raise Interrupted(signum)


def _watch_parent(ppid: int) -> None:
    while os.getppid() == ppid:
        time.sleep(0.5)
    os._exit(1)


def worker_init() -> None:
    """Initializer of a local worker process: leave stopping to the parent, die with it."""
    for s in SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    # also where prctl is missing, and for a parent that died before prctl took effect
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
