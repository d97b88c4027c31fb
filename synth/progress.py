"""A progress bar with items/s and audio-seconds generated per second (rich)."""

from __future__ import annotations

import time
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text


class _Rates(ProgressColumn):
    def __init__(self, state: dict):
        super().__init__()
        self.state = state

    def render(self, task) -> Text:
        dt = max(time.monotonic() - self.state["t0"], 1e-6)
        n = task.completed - self.state["start"]
        return Text(f"{n / dt:.1f} items/s, {self.state['audio_s'] / dt:.0f} audio-s/s")


class _Bar:
    def __init__(self, progress: Progress, task, state: dict):
        self.progress, self.task, self.state = progress, task, state

    def advance(self, audio_s: float) -> None:
        self.state["audio_s"] += audio_s
        self.progress.advance(self.task)


@contextmanager
def progress_bar(total: int, done: int = 0, label: str = "rendering", stderr: bool = False, disable: bool = False):
    """One bar for a run over ``total`` items (builds, fits, evals): items/s and audio-seconds per second;
    ``done`` items already finished (resumed work); ``stderr`` when stdout carries results."""
    from rich.console import Console

    state = {"t0": time.monotonic(), "start": done, "audio_s": 0.0}
    with Progress(TextColumn(label.replace("[", "\\[")), BarColumn(), MofNCompleteColumn(), _Rates(state),
                  TimeRemainingColumn(), transient=False, disable=disable,
                  **({"console": Console(stderr=True)} if stderr else {})) as progress:
        task = progress.add_task(label, total=total, completed=done)
        yield _Bar(progress, task, state)
