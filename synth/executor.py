"""Where a build's items run: one small interface (:class:`Executor`), an ordered map of a task over chunks of
items, in this process, a local process pool, or Ray actors (:class:`RayActors`). Only the plan (once per
worker) and item ids travel; workers read sources and write into ``out_dir`` themselves, so on a cluster both
sit on a shared filesystem. Every draw is keyed on (seed, item id, stage): a set is byte-identical whatever built it.
"""

from __future__ import annotations

import heapq
import os
import sys
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import count, islice
from typing import Callable, Iterable, Iterator

from . import ray_cluster
from .errors import ConfigError, SynthError
from .stops import worker_init

RAY_EXTRA = "executor=ray needs Ray: pip install 'synth[ray]' (or pip install 'ray[default]==2.60.0')"


class Executor:
    """The interface: ``workers``, ``map_ordered(task, chunks)`` (results in input order) and ``close``.
    Used as a context manager: leaving the block on an exception (an error, an interrupt) stops the
    workers at once instead of letting queued chunks run to the end."""

    workers = 1
    lost_workers = 0  # workers lost (and replaced) while running: they may have left partial writes

    def map_ordered(self, task: Callable, chunks: Iterable) -> Iterator:
        raise NotImplementedError

    def close(self, error: BaseException | None = None) -> None:
        pass

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc)


class InProcess(Executor):
    """Runs every chunk in this process, in order."""

    def map_ordered(self, task: Callable, chunks: Iterable) -> Iterator:
        return map(task, chunks)


class ProcessPool(Executor):
    """``workers`` processes on this machine, started for each map with its task installed once per process
    (as a Ray actor keeps its task): only chunks travel, and a worker's caches (decoded sources, RIR
    spectra) last the whole build instead of one chunk. Workers ignore Ctrl-C/SIGTERM and die with this
    process (:func:`synth.stops.worker_init`); on an error or an interrupt they are killed and queued
    chunks dropped."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def map_ordered(self, task: Callable, chunks: Iterable) -> Iterator:
        self.close()  # a previous map's workers hold its task
        self._pool = ProcessPoolExecutor(self.workers, initializer=_start_worker, initargs=(task,))
        return self._bounded(self._pool, iter(chunks))

    def _bounded(self, pool: ProcessPoolExecutor, chunks: Iterator) -> Iterator:
        """Results in order with at most 4 chunks per worker submitted ahead, so ``chunks`` may be a stream
        (``synth render`` of a large manifest) that is read as the work goes, not all at once."""
        window = deque(pool.submit(_run_installed, c) for c in islice(chunks, 4 * self.workers))
        try:
            while window:
                result = window.popleft().result()
                for c in islice(chunks, 1):
                    window.append(pool.submit(_run_installed, c))
                yield result
        finally:  # left early (an error, an interrupt): what was queued is dropped
            for future in window:
                future.cancel()

    def close(self, error: BaseException | None = None) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if error is None:
            pool.shutdown(wait=True)
            return
        # Stop at once: drop the queued chunks, then kill the running ones. The pool's own handles on its
        # workers and manager thread are private (Python 3.14 adds kill_workers()). Shutting down first
        # matters: killed workers make the manager thread fail every pending future, and a future the
        # shutdown had not yet dropped is already cancelled, so it raised InvalidStateError there.
        workers = list((getattr(pool, "_processes", None) or {}).values())
        manager = getattr(pool, "_executor_manager_thread", None)
        pool.shutdown(wait=False, cancel_futures=True)
        for p in workers:
            p.kill()
        if manager is not None:
            manager.join()


# The task a local pool's worker process was started with, set only inside those processes: a pool worker
# has no object of its own to keep it on, as a Ray actor does.
_installed: dict[str, Callable] = {}


def _start_worker(task: Callable) -> None:
    worker_init()
    _installed["task"] = task


def _run_installed(chunk):
    return _installed["task"](chunk)


class TaskRunner:
    """A Ray actor's body: runs chunks of the task it was last sent, keeping it (and the caches it builds,
    e.g. decoded source files) between chunks. The task arrives once per actor as an object reference."""

    def __init__(self):
        self._ref, self._task = None, None
        # A Ray worker is a fresh interpreter (a local pool's workers fork from an importing parent):
        # import what rendering needs now, so actor start-up, not the first chunk, pays for it.
        import synth.plan  # noqa: F401  (imported for their side effect: sampling and rendering modules loaded)
        import synth.writer.item  # noqa: F401

    def run(self, task_ref: list, chunk):
        import ray
        if self._ref != task_ref[0].hex():  # in a list, so Ray hands over the reference, not the value
            self._task, self._ref = ray.get(task_ref[0]), task_ref[0].hex()
        return self._task(chunk)

    def where(self) -> str:
        """``pid <N> on <node IP>``, for the line that reports this worker lost."""
        import ray
        return f"pid {os.getpid()} on {ray.util.get_node_ip_address()}"


# A chunk whose worker is lost this many times stops the build: a chunk that kills every worker it runs on
# (e.g. by running out of memory) must not take the cluster down one worker at a time.
MAX_LOSSES = 4
# With every worker lost, how long a replacement may take to start (a node to join) before the build stops.
START_TIMEOUT_S = 300.0


@dataclass
class _Schedule:
    """Where the chunks of one :meth:`RayActors._ordered` run are."""

    todo: list                  # a heap of chunk indices waiting for a slot
    slots: deque                # free slots: a worker number each, two per worker
    queued: dict                # worker -> its chunks, in order
    running: dict = field(default_factory=dict)   # object ref -> (chunk index, worker number)
    alone: set = field(default_factory=set)       # workers running a chunk that was on a lost worker, and nothing else
    finished: dict = field(default_factory=dict)  # chunk index -> result
    losses: Counter = field(default_factory=Counter)  # chunk index -> workers lost while it was on them


class RayActors(Executor):
    """``num_cpus`` actors of one CPU each on a Ray cluster, each kept two chunks ahead; results in order.

    A lost worker (its process or node died: a preempted or OOM-killed node) costs one line on stderr: its
    unfinished chunks run again on the other workers and a replacement actor starts wherever the cluster
    has a free CPU. Every draw is keyed on (seed, item id, stage) and items are written atomically, so a
    chunk run again writes the same bytes. A chunk whose worker is lost ``MAX_LOSSES`` times stops the
    build with one line (its finished items stay journaled for a resume); a worker's own error (bad
    input) is not retried."""

    def __init__(self, address: str = "auto", num_cpus: int | None = None, verbose: bool = False):
        try:
            import ray
        except ImportError:
            raise ConfigError(RAY_EXTRA) from None
        self._ray = ray
        self._actors: dict[int, object] = {}  # worker number -> actor taking chunks
        self._starting: dict = {}              # where ref of a replacement -> (worker number, actor)
        self._where: dict[int, str] = {}       # worker number -> pid and node
        self._numbers = count()
        self._started = not ray.is_initialized()
        if self._started:
            print(ray_cluster.connect(ray, address, num_cpus, verbose), file=sys.stderr)
        self._unquiet = ray_cluster.quiet_worker_logs(ray, not verbose)
        self._lost = ray_cluster.lost_errors(ray)
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if num_cpus is not None and not 1 <= int(num_cpus) <= cpus:
            self.close()
            raise ConfigError(f"executor.num_cpus={num_cpus}: the Ray cluster has {cpus} CPUs; "
                              f"ask for 1..{cpus} or leave it unset (null) to use them all")
        self.workers = int(num_cpus or cpus)
        self._actor = ray.remote(num_cpus=1)(TaskRunner)
        self._actors = {next(self._numbers): self._actor.remote() for _ in range(self.workers)}
        # started (or failed) before the first chunk
        self._where = dict(zip(self._actors, ray.get([a.where.remote() for a in self._actors.values()])))

    def map_ordered(self, task: Callable, chunks: Iterable) -> Iterator:
        ray = self._ray
        ref = ray.put(task)
        try:
            yield from self._ordered(ref, list(chunks))
        except ray.exceptions.RayTaskError as e:  # a worker's bad input: its own one-line message
            if isinstance(e.cause, SynthError):
                raise e.cause from None
            raise

    def _ordered(self, task_ref, chunks: list) -> Iterator:
        """Results of ``chunks`` in order. Each actor has two chunks queued (it runs them in turn), so it
        starts its next chunk without waiting for this process to notice the last one and send another,
        which on a busy machine took a few ms per chunk. A free slot goes to the first chunk in line; a
        lost worker's chunks go back in line at their place, so the results in order wait least.

        Which of a lost worker's chunks was running is not known (the reply of the one before may be lost
        with it), so each of them runs alone from then on, on an idle worker with nothing queued behind:
        a chunk that kills its workers is then the one lost ``MAX_LOSSES`` times, not its neighbour."""
        s = _Schedule(todo=list(range(len(chunks))), slots=deque(n for n in self._actors for _ in range(2)),
                      queued={n: deque() for n in self._actors})
        for want in range(len(chunks)):
            while want not in s.finished:
                self._dispatch(s, task_ref, chunks)
                lost = self._collect(s, len(chunks))
                for i, n, e in lost:  # after the chunks that finished, whose replies came before the loss
                    self._requeue(s, i, n, e, chunks)
            yield s.finished.pop(want)

    def _dispatch(self, s: "_Schedule", task_ref, chunks: list) -> None:
        """Send waiting chunks to free slots, first in line first; a chunk once lost waits for an idle worker."""
        held = []
        while s.slots and s.todo:
            i = heapq.heappop(s.todo)
            if s.losses[i]:  # both slots of an idle worker, or it waits
                n = next((m for m in self._actors if not s.queued[m]), None)
                if n is None:
                    held.append(i)
                    continue
                s.slots = deque(m for m in s.slots if m != n)
                s.alone.add(n)
            else:
                n = s.slots.popleft()
            s.running[self._actors[n].run.remote([task_ref], chunks[i])] = (i, n)
            s.queued[n].append(i)
        for i in held:
            heapq.heappush(s.todo, i)

    def _collect(self, s: "_Schedule", total: int) -> list:
        """Take in what is ready: finished chunks (their worker's slot is free again) and started replacements
        (two new slots). Returns the chunks whose worker was lost: (chunk index, worker number, error)."""
        ray = self._ray
        lost = []
        for ref in self._ready(list(s.running), total - len(s.finished), total):
            if ref in self._starting:  # a replacement is up: it takes chunks from now on
                n, self._actors[n] = self._starting.pop(ref)
                self._where[n], s.queued[n] = ray.get(ref), deque()
                s.slots.extend([n, n])
                continue
            i, n = s.running.pop(ref)
            try:
                s.finished[i] = ray.get(ref)
            except self._lost as e:  # (a worker's own error is not one of these: see map_ordered)
                lost.append((i, n, e))
                continue
            s.queued[n].remove(i)
            if n in self._actors:
                s.slots.extend([n, n] if n in s.alone else [n])
                s.alone.discard(n)
        return lost

    def _requeue(self, s: "_Schedule", i: int, n: int, e: BaseException, chunks: list) -> None:
        """Chunk ``i`` lost worker ``n``: the worker is reported and replaced (once), the chunk goes back in
        line; a chunk lost ``MAX_LOSSES`` times stops the build."""
        if n in self._actors:  # the first of its chunks to fail: one line per lost worker
            self._lose(n, e, len(s.queued[n]))
            s.slots = deque(m for m in s.slots if m != n)
            s.alone.discard(n)
        s.queued[n].remove(i)
        heapq.heappush(s.todo, i)
        s.losses[i] += 1
        if s.losses[i] >= MAX_LOSSES:
            raise SynthError(f"ray: the chunk starting at item {_first_item(chunks[i])} lost its worker "
                             f"{s.losses[i]} times (last: {self._where.get(n, 'a worker')}: "
                             f"{ray_cluster.describe_loss(e)}); stopping. Finished items are kept: rerun "
                             "the same command to resume")

    def _ready(self, running: list, unfinished: int, total: int) -> list:
        """Every chunk and started replacement that is ready now, once one is. With every worker lost, a
        replacement has ``START_TIMEOUT_S`` to start (on a node that joins, or once the cluster frees a CPU);
        one that dies while starting is not replaced again."""
        ray = self._ray
        while True:
            waiting = running + list(self._starting)
            if not waiting or not ray.wait(waiting, num_returns=1, timeout=None if running else START_TIMEOUT_S)[0]:
                free = int(ray.available_resources().get("CPU", 0))
                raise SynthError(f"ray: every worker was lost and none restarted within {START_TIMEOUT_S:.0f} s (the "
                                 f"cluster has {free} free CPUs); {unfinished} of {total} chunks unfinished. Finished "
                                 "items are kept: rerun the same command once the cluster is back")
            ready, _ = ray.wait(waiting, num_returns=len(waiting), timeout=0)
            for ref in [r for r in ready if r in self._starting]:
                try:
                    ray.get(ref)
                except self._lost as e:
                    if isinstance(e, ray.exceptions.RayActorError) and e.actor_init_failed:
                        raise
                    self._starting.pop(ref)
                    ready.remove(ref)
                    print(f"ray: a replacement worker could not start ({ray_cluster.describe_loss(e)}); going on "
                          f"with {len(self._actors)} workers", file=sys.stderr)
            if ready:
                return ready

    def _lose(self, n: int, error: BaseException, unfinished: int) -> None:
        """Worker ``n`` is lost: say so in one line, make sure it is gone, start a replacement (it takes
        chunks once it has started, see :meth:`_ordered`)."""
        ray = self._ray
        self.lost_workers += 1
        try:
            ray.kill(self._actors.pop(n), no_restart=True)  # one that is unreachable, not dead, must stop writing
        except Exception:  # noqa: BLE001  (it is gone already)
            pass
        replacement = self._actor.remote()
        self._starting[replacement.where.remote()] = (next(self._numbers), replacement)
        print(f"ray: lost a worker ({self._where.get(n, 'a worker')}: {ray_cluster.describe_loss(error)}); running "
              f"its {unfinished} unfinished chunk{'s' if unfinished != 1 else ''} again on the other workers and "
              "starting a replacement", file=sys.stderr)

    def close(self, error: BaseException | None = None) -> None:
        for a in [*self._actors.values(), *(a for _, a in self._starting.values())]:
            try:
                self._ray.kill(a)
            except Exception:  # noqa: BLE001  (a lost worker's actor may be gone already)
                pass
        self._actors, self._starting = {}, {}
        if self._started:
            self._ray.shutdown()
        if self._unquiet is not None:  # after the shutdown, which prints the last lines it held
            self._unquiet()
            self._unquiet = None


def _first_item(chunk) -> str:
    """The first item id of a build's chunk (a list of jobs, or an ``(index, jobs)`` shard)."""
    if isinstance(chunk, tuple) and len(chunk) == 2 and isinstance(chunk[1], (list, tuple)):
        chunk = chunk[1]
    first = chunk[0] if isinstance(chunk, (list, tuple)) and chunk else chunk
    return str(getattr(first, "item_id", first))

def make_executor(cfg: dict) -> Executor:
    """The executor ``cfg`` asks for (``executor.name``, ``workers``); use it in a ``with`` block."""
    ex = dict(cfg.get("executor") or {"name": "local"})
    name = ex.get("name", "local")
    if name == "ray":
        return RayActors(str(ex.get("address") or "auto"), ex.get("num_cpus"), bool(ex.get("verbose")))
    if name != "local":
        raise ConfigError(f"executor={name!r}: known executors are 'local' and 'ray'")
    workers = int(cfg.get("workers", 1))
    return InProcess() if workers <= 1 else ProcessPool(workers)
