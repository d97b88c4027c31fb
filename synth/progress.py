"""A progress bar with items/s and audio-seconds processed per second (rich), or files/s for file scans."""

from __future__ import annotations

import time
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text


class _Rates(ProgressColumn):
    def __init__(self, state: dict, unit: str):
        super().__init__()
        self.state, self.unit = state, unit

    def render(self, task) -> Text:
        dt = max(time.monotonic() - self.state["t0"], 1e-6)
        n = task.completed - self.state["start"]
        if self.unit != "items":
            return Text(f"{n / dt:.0f} {self.unit}/s")
        return Text(f"{n / dt:.1f} items/s, {self.state['audio_s'] / dt:.0f} audio-s/s")


class _Bar:
    def __init__(self, progress: Progress, task, state: dict):
        self.progress, self.task, self.state = progress, task, state

    def advance(self, audio_s: float, n: int = 1) -> None:
        self.state["audio_s"] += audio_s
        self.progress.advance(self.task, n)


@contextmanager
def progress_bar(total: int, done: int = 0, label: str = "rendering", unit: str = "items", stderr: bool = False,
                 show: bool = True):
    """One bar for a run over ``total`` things (builds, fits, evals, file scans); ``done`` already finished
    (resumed work); ``unit``: what is counted (``items`` also shows audio-s/s); ``stderr``: draw on stderr
    (commands whose stdout is a report, e.g. ``synth compare``); ``show=False``: draw nothing."""
    state = {"t0": time.monotonic(), "start": done, "audio_s": 0.0}
    console = Console(stderr=True) if stderr else None
    with Progress(TextColumn(label.replace("[", "\\[")), BarColumn(), MofNCompleteColumn(), _Rates(state, unit),
                  TimeRemainingColumn(), console=console, transient=False, disable=not show) as progress:
        task = progress.add_task(label, total=total, completed=done)
        yield _Bar(progress, task, state)
