"""Large runs across processes: candidates go to a pool in batches, results come back in walk
order, so the output is the same as from one process (tests/engine_pool_test.py)."""

from __future__ import annotations

import collections
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from migrate.rewrite.walk import Candidate

if TYPE_CHECKING:  # concurrent.futures imports logging and threading: not on a hook's path
    from concurrent.futures import Future

Result = TypeVar("Result")

# A pool has a fixed cost (forking, each worker's imports and repository facts, pickling
# results) and each file a cost of its own beside its bytes, counted as _WORK_PER_FILE bytes;
# past MIN_WORK the pool finishes first. bench/run.py measures both sides of that line
# (docs/performance.md has the current numbers): re-measure before moving either constant.
MIN_WORK = 2 * 1024 * 1024
_WORK_PER_FILE = 10 * 1024
# A batch is one round trip to a worker: enough files to amortise the pipe, few enough
# that the last batches still spread over every worker.
_BATCH_WORK = 256 * 1024
_BATCH_FILES = 32
# Batches queued ahead, as results come back in order: enough that a slow batch at the head
# (one large manifest) does not leave the other workers idle; few enough to bound memory.
_IN_FLIGHT_PER_WORKER = 16


def workers(jobs: int | None) -> int:
    """`jobs` if positive, else $ECR_PTC_JOBS if positive, else one per CPU this may use."""
    if jobs is None:
        try:
            jobs = int(os.environ.get("ECR_PTC_JOBS") or 0)
        except ValueError:
            jobs = 0
    if jobs > 0:
        return jobs
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def size(candidate: Candidate) -> int:
    try:
        return os.stat(candidate.real).st_size if candidate.real else 0
    except OSError:
        return 0  # the engine reports it


def work(candidate: Candidate) -> int:
    return _WORK_PER_FILE + size(candidate)


def run(
    candidates: Iterable[Candidate], each: Callable[[Candidate], Result | None], count: int
) -> Iterator[Result]:
    """`each(candidate)` for every candidate, in `count` processes (this one and `count - 1`
    workers); None results are dropped."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: workers start with every module already imported (spawn would re-import per worker);
    # Linux only, as macOS system libraries are not fork-safe. ProcessPoolExecutor rather than
    # multiprocessing.Pool: a worker that dies raises BrokenProcessPool instead of hanging.
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    pool = ProcessPoolExecutor(count - 1, mp_context=context, initializer=_init, initargs=(each,))
    # Every process pays its own imports and repository facts (a chart tree: ~430M
    # instructions), and a parent that only waited for results would leave a core to workers
    # paying them again. So this process takes every `count`-th batch, the first included, and
    # runs it when it comes to the head of the window, while the workers run the batches queued
    # behind it; a run of one batch (one dense file) never forks at all.
    window: collections.deque[Future[list[Any]] | list[Candidate]] = collections.deque()
    try:
        for index, batch in enumerate(_batches(candidates)):
            window.append(batch if index % count == 0 else pool.submit(_batch, batch))
            if len(window) >= count * _IN_FLIGHT_PER_WORKER:
                yield from _results(window.popleft(), each)
        while window:
            yield from _results(window.popleft(), each)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _results(
    item: Future[list[Any]] | list[Candidate], each: Callable[[Candidate], Result | None]
) -> Iterator[Result]:
    results = [each(candidate) for candidate in item] if isinstance(item, list) else item.result()
    return (result for result in results if result is not None)


def _batches(candidates: Iterable[Candidate]) -> Iterator[list[Candidate]]:
    batch: list[Candidate] = []
    size = 0
    for candidate in candidates:
        batch.append(candidate)
        size += work(candidate)
        if size >= _BATCH_WORK or len(batch) >= _BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


_each: Callable[[Candidate], Any] | None = None  # in a worker: what to do with each candidate


def _init(each: Callable[[Candidate], Any]) -> None:
    global _each
    # Ctrl-C and SIGTERM reach the whole process group: they are the parent's to handle. It
    # stops handing out work and waits for the batches under way, whose writes are atomic.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform == "linux":
        # A parent that dies without shutting the pool down (SIGKILL, a second SIGTERM) must
        # not leave its workers waiting for work forever: PR_SET_PDEATHSIG (1) kills them too.
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    _each = each


def _batch(batch: list[Candidate]) -> list[Any]:
    assert _each is not None
    return [_each(candidate) for candidate in batch]
