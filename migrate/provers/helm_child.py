"""Helm's engine in a child process: a chart's templates are code (a loop can spin forever, a
`range` can allocate gigabytes, a Go panic aborts the process), so they render out of ours.

Each child renders one request at a time (any number of charts and values sets) under a time
limit per request and an address-space limit (RLIMIT_AS) set by the child before Helm loads;
a child that overruns is killed and each of its charts gets a one-line reason instead (PTC011
for the prover). Children are kept for the run and reused, one for every two CPUs at most
(`_CHILDREN`): a run proving many charts starts Python and loads Helm's library a few times,
not per chart.
SIGTERM or Ctrl-C in the parent kills every child at once (`stop`); a child whose parent is
gone exits by itself.

The child is `python -I` (no `PYTHONPATH`, no user site, not the working directory on the path:
the repository being rendered cannot shadow a module) with this package's own directory put
first, and none of the parent's environment beyond PATH, HOME and the locale (`staging.offline_env`).
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from migrate.provers.rendered import Memo, Rendered

TIMEOUT = 60.0  # seconds per request: far beyond what a real chart's renders take
MEMORY = 2 << 30  # bytes of address space; Go's runtime reserves a large share just to start
_MAX_ANSWER = 64 << 20  # bytes: a chart's images are kilobytes; this is not an endless stream

# Per values set ('' the chart's defaults, else an override file's name): the images the
# render runs (`rendered.images`, computed in the child: only they cross the pipe, not the
# megabytes of manifests a chart's CRDs make), or why it does not render.
Result = dict[str, "list[Rendered] | str"]
Job = tuple[Path, Mapping[str, str]]  # a chart directory and its override values (name -> text)


class Rendering(NamedTuple):
    result: Result
    documents: Memo  # the images of each document it parsed or was given (`rendered.images`)


class _Child:
    def __init__(self) -> None:
        here = str(Path(__file__).resolve().parents[2])
        code = f"import sys; sys.path.insert(0, {here!r}); from migrate.provers import helm_child; helm_child.serve({MEMORY})"
        from migrate.provers.staging import offline_env

        env = offline_env()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a Go traceback is not the user's to read
            env=env,
            cwd="/",
            close_fds=True,
        )

    def ask(
        self, jobs: Sequence[Job], timeout: float, known: Memo | None = None
    ) -> list[Rendering] | str:
        """The child's answer, or why there is none (the child is then dead)."""
        request = [[[str(chart), dict(overrides)] for chart, overrides in jobs], known or {}]
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
        except OSError:
            return self._dead()
        try:
            line = _read_line(stdout, time.monotonic() + timeout)
        except TimeoutError:
            self.kill()
            return f"Helm's render took over {timeout:g} s: stopped"
        try:
            answer = json.loads(line) if line is not None else None
        except ValueError:
            answer = None
        if not isinstance(answer, list) or len(answer) != len(jobs):
            return self._dead()
        return [_rendering(one) for one in answer]

    def _dead(self) -> str:
        self.kill()
        code = self.process.returncode
        return (
            f"Helm's renderer stopped (exit status {code}): over its {MEMORY >> 20} MiB "
            "memory limit, or crashed"
        )

    def end(self) -> None:
        """Kill the process, nothing more: safe from any thread. A thread reading its answer
        sees the pipe close and tidies up itself; closing the pipe under that thread instead
        could leave it waiting on a descriptor number the OS has since handed to another file."""
        if self.process.poll() is None:
            self.process.kill()

    def kill(self) -> None:
        """Kill the process and close its pipes: only by the thread that uses the child."""
        self.end()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


def _read_line(stream: IO[bytes], deadline: float) -> bytes | None:
    """One line from the child, or None (it closed its end, or said too much); TimeoutError
    past `deadline`."""
    fd = stream.fileno()
    chunks: list[bytes] = []
    size = 0
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if not selector.select(left):
                continue
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                return None
            chunks.append(chunk)
            size += len(chunk)
            if chunk.endswith(b"\n"):
                return b"".join(chunks)
            if size > _MAX_ANSWER:
                return None


def _rendering(answer: Any) -> Rendering:
    from migrate.provers.rendered import Rendered, memo_of

    nonsense = Rendering({"": "Helm's renderer answered nonsense"}, {})
    if not isinstance(answer, list) or len(answer) != 2:
        return nonsense
    images, documents = answer
    if not isinstance(images, dict) or (memo := memo_of(documents)) is None:
        return nonsense
    out: Result = {}
    for name, value in images.items():
        if isinstance(value, str):
            out[str(name)] = value
        elif isinstance(value, list):
            out[str(name)] = [Rendered(str(w), str(i)) for w, i in value]
    return Rendering(out, memo)


_lock = threading.Condition()
_idle: list[_Child] = []
_busy: set[_Child] = set()
_stopped = False


# Children at most, the prover threads beyond them waiting for one: a child costs ~0.15 CPU s
# to start (Python, PyYAML, Helm's library), about what Helm takes to render a large chart, and
# each render keeps a prover thread busy staging the next chart: half the CPUs render. On two
# CPUs a second child cost more than it saved, in CPU time and on a busy machine in wall time
# (`fix --check` on the corpus charts, a new rewrite: 1.8x -> 1.6x the unproven run's CPU).
def _cpus() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


_CHILDREN = max(1, _cpus() // 2)


def render(
    jobs: Sequence[Job], timeout: float | None = None, known: Memo | None = None
) -> list[Rendering]:
    """Each job's images per values set (`helm_render.render`, then `rendered.images`), found
    in a child; a job the child could not finish has its reason for each of its values sets.
    The documents of `known` (an earlier render's) are not parsed again."""
    limit = TIMEOUT if timeout is None else timeout
    answer: list[Rendering] | str = "the run is stopping"
    try:
        child = _take()
    except OSError as exc:  # no process to be had (a limit on processes, memory)
        child, answer = None, f"Helm's renderer could not be started: {exc}"
    if child is not None:
        try:
            answer = child.ask(jobs, limit, known)
        except BaseException:  # SIGTERM or Ctrl-C while waiting: the child goes with us
            _drop(child)
            raise
        if isinstance(answer, str):
            _drop(child)
        else:
            _give_back(child)
    if isinstance(answer, str):
        return [Rendering(dict.fromkeys(("", *overrides), answer), {}) for _, overrides in jobs]
    return answer


def _take() -> _Child | None:
    with _lock:
        _lock.wait_for(lambda: _stopped or _idle or len(_busy) < _CHILDREN)
        if _stopped:
            return None
        child = _idle.pop() if _idle else None
        if child is None:
            if not _busy:
                atexit.register(stop)
            child = _Child()
        _busy.add(child)
        return child


def _give_back(child: _Child) -> None:
    with _lock:
        _busy.discard(child)
        if _stopped:
            child.kill()
        else:
            _idle.append(child)
        _lock.notify()


def _drop(child: _Child) -> None:
    child.kill()
    with _lock:
        _busy.discard(child)
        _lock.notify()


def stop() -> None:
    """Kill every child now (a signal ends the run); renders waiting on one get their reason."""
    global _stopped
    with _lock:
        _stopped = True
        idle, busy = list(_idle), list(_busy)
        _idle.clear()
        _lock.notify_all()
    for child in idle:
        child.kill()
    for child in busy:  # their threads close them (`_drop`, `_give_back`)
        child.end()


def reset() -> None:
    """After `stop`: children may be started again (the next run in this process)."""
    global _stopped
    with _lock:
        _stopped = False


# --- the child's side ---------------------------------------------------------------------


def serve(memory: int) -> None:
    """Answer requests on stdin, one JSON line each, until stdin closes or the parent dies."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    parent = os.getppid()

    def orphaned() -> None:  # Helm's Go code runs without the GIL: this thread still runs
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=orphaned, daemon=True).start()
    from migrate.provers import helm_render, rendered

    helm_render.available()  # load Helm's library while the parent stages the first chart
    for line in sys.stdin.buffer:
        try:
            jobs, known = json.loads(line)
            memo = rendered.memo_of(known)
            if memo is None:
                raise ValueError("not a documents memo")
            answers = [
                _one(helm_render, rendered, Path(chart), overrides, memo)
                for chart, overrides in jobs
            ]
        except (ValueError, TypeError) as exc:
            answers = [[{"": f"bad request: {exc}"}, {}]]
        sys.stdout.buffer.write(json.dumps(answers).encode() + b"\n")
        sys.stdout.buffer.flush()


def _one(
    helm_render: Any, rendered: Any, chart: Path, overrides: Mapping[str, str], memo: Memo
) -> Any:
    """[values set -> images or why not, the documents memo of this chart's renders]: the
    request's memo is shared by its jobs (the chart as it is, then its rewrite), and each job
    answers with the part its own documents used."""
    missing = helm_render.available()
    if missing is not None:
        return [dict.fromkeys(("", *overrides), missing), {}]
    try:
        manifests = helm_render.render(chart, overrides)
        used: Memo = {}
        images: dict[str, Any] = {}
        for name, out in manifests.items():
            if isinstance(out, str):
                images[name] = out
                continue
            images[name] = [list(r) for r in rendered.images(out, memo, used)]
        return [images, used]
    except MemoryError:
        return [dict.fromkeys(("", *overrides), f"over the {_mib()} MiB memory limit"), {}]
    except Exception as exc:  # noqa: BLE001 - the chart's fault or the SDK's: one line either way
        why = f"Helm's renderer failed: {type(exc).__name__}"
        return [dict.fromkeys(("", *overrides), why), {}]


def _mib() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_AS)[0] >> 20
