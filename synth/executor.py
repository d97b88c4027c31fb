"""Where a build's items run: one small interface, an ordered map of a task over chunks of items.

* ``executor=local`` (default): in this process (``workers=1``) or a pool of ``workers`` processes.
* ``executor=ray``: one actor per CPU (``executor.num_cpus`` of them; default: every CPU of the cluster)
  on a Ray cluster. ``executor.address=auto`` joins the cluster running on this machine (``ray start``),
  ``ray://<head>:10001`` a remote one through Ray Client, ``local`` starts a private one for this build.

Only the task (the plan, ~30 KB, once per worker) and chunks of item ids travel. Workers read the sources
and write their items into ``out_dir`` themselves, so the sources and ``out_dir`` must be at the same path
on every node (a shared filesystem). Results come back in input order whichever executor ran them and
every random draw is keyed on (seed, item id, stage), so a set is byte-identical whatever built it.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from typing import Callable, Iterable, Iterator

from .errors import ConfigError, SynthError
from .stops import worker_init

RAY_EXTRA = "executor=ray needs Ray: pip install 'synth[ray]' (or pip install 'ray[default]==2.60.0')"


class Executor:
    """The interface: ``workers``, ``map_ordered(task, chunks)`` (results in input order) and ``close``.
    Used as a context manager: leaving the block on an exception (an error, an interrupt) stops the
    workers at once instead of letting queued chunks run to the end."""

    workers = 1

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
        (``render --from`` of a large manifest) that is read as the work goes, not all at once."""
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
        import synth.build  # noqa: F401  (imported for its side effect: modules loaded)

    def run(self, task_ref: list, chunk):
        import ray
        if self._ref != task_ref[0].hex():  # in a list, so Ray hands over the reference, not the value
            self._task, self._ref = ray.get(task_ref[0]), task_ref[0].hex()
        return self._task(chunk)


class RayActors(Executor):
    """``num_cpus`` actors of one CPU each on a Ray cluster, each kept two chunks ahead; results in order."""

    def __init__(self, address: str = "auto", num_cpus: int | None = None):
        try:
            import ray
        except ImportError:
            raise ConfigError(RAY_EXTRA) from None
        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            try:
                if address == "local":
                    ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level="warning")
                else:
                    ray.init(address=address, logging_level="warning")
            except ConnectionError as e:
                raise ConfigError(f"executor.address={address}: no Ray cluster there ({str(e).splitlines()[0]}); "
                                  "start one with `ray start --head` or use executor.address=local") from None
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if num_cpus is not None and not 1 <= int(num_cpus) <= cpus:
            self.close()
            raise ConfigError(f"executor.num_cpus={num_cpus}: the Ray cluster has {cpus} CPUs; "
                              f"ask for 1..{cpus} or leave it unset (null) to use them all")
        self.workers = int(num_cpus or cpus)
        actor = ray.remote(num_cpus=1)(TaskRunner)
        self._actors = [actor.remote() for _ in range(self.workers)]
        ray.get([a.__ray_ready__.remote() for a in self._actors])  # started (or failed) before the first chunk

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
        which on a busy machine took a few ms per chunk; a free slot goes to the next chunk in line."""
        ray = self._ray
        slots = deque(a for a in self._actors for _ in range(2))
        running: dict = {}   # object ref -> (chunk index, actor)
        finished: dict = {}  # chunk index -> object ref
        sent = 0
        for want in range(len(chunks)):
            while want not in finished:
                while slots and sent < len(chunks):
                    actor = slots.popleft()
                    running[actor.run.remote([task_ref], chunks[sent])] = (sent, actor)
                    sent += 1
                [ready], _ = ray.wait(list(running), num_returns=1)
                index, actor = running.pop(ready)
                finished[index] = ready
                slots.append(actor)
            yield ray.get(finished.pop(want))

    def close(self, error: BaseException | None = None) -> None:
        for a in getattr(self, "_actors", []):
            self._ray.kill(a)
        self._actors = []
        if self._started:
            self._ray.shutdown()


def make_executor(cfg: dict) -> Executor:
    """The executor ``cfg`` asks for (``executor.name``, ``workers``); use it in a ``with`` block."""
    ex = dict(cfg.get("executor") or {"name": "local"})
    name = ex.get("name", "local")
    if name == "ray":
        return RayActors(str(ex.get("address") or "auto"), ex.get("num_cpus"))
    if name != "local":
        raise ConfigError(f"executor={name!r}: known executors are 'local' and 'ray'")
    workers = int(cfg.get("workers", 1))
    return InProcess() if workers <= 1 else ProcessPool(workers)
