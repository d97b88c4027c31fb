"""The local process pool installs its task once per worker, as a Ray actor keeps its task: chunks travel
alone and what a worker caches (decoded sources, RIR spectra) lasts the whole build, not one chunk."""

import os
from collections import defaultdict

from synth.executor import ProcessPool


class CountingTask:
    """Counts the chunks this very object has run, in whichever process runs it."""

    def __call__(self, chunk):
        self.__dict__["runs"] = self.__dict__.get("runs", 0) + 1
        return chunk, os.getpid(), self.runs


def test_each_worker_runs_every_chunk_of_a_map_with_one_task_object():
    with ProcessPool(2) as pool:
        out = list(pool.map_ordered(CountingTask(), range(24)))
        again = list(pool.map_ordered(CountingTask(), range(4)))  # a new map: a new task, counted afresh
    assert [c for c, _, _ in out] == list(range(24))          # in input order
    runs = defaultdict(list)
    for _, pid, n in out:
        runs[pid].append(n)
    assert os.getpid() not in runs and sum(len(r) for r in runs.values()) == 24
    for counts in runs.values():                               # 1, 2, 3, ... in each worker: one object
        assert sorted(counts) == list(range(1, len(counts) + 1))
    assert max(n for _, _, n in again) <= 4 and min(n for _, _, n in again) == 1


def test_chunks_are_read_as_the_work_goes():
    """A stream of chunks (render --from reading a large manifest) is not drawn all at once: at most four
    per worker are queued ahead of the result being waited for."""
    pulled = []

    def stream():
        for c in range(100):
            pulled.append(c)
            yield c

    with ProcessPool(2) as pool:
        results = pool.map_ordered(CountingTask(), stream())
        first = next(results)
        assert len(pulled) <= 2 * 4 + 1
        rest = list(results)
    assert [c for c, _, _ in [first, *rest]] == list(range(100))
