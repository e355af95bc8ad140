"""Progress on stderr and colour on stdout: only for a person at a terminal reading text."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrate.output import progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _clock(times: list[float]) -> Iterator[float]:
    yield from times


@pytest.mark.parametrize(
    ("output", "stdout", "stderr", "environ", "expected"),
    [
        pytest.param("text", _Tty(), _Tty(), {}, True, id="text-on-terminal"),
        pytest.param("json", _Tty(), _Tty(), {}, False, id="json"),
        pytest.param("sarif", _Tty(), _Tty(), {}, False, id="sarif"),
        pytest.param("github", _Tty(), _Tty(), {}, False, id="github"),
        pytest.param("text", io.StringIO(), _Tty(), {}, False, id="stdout-redirected"),
        pytest.param("text", _Tty(), io.StringIO(), {}, False, id="stderr-redirected"),
        pytest.param("text", _Tty(), _Tty(), {"TERM": "dumb"}, False, id="dumb-terminal"),
    ],
)
def test_wanted(
    output: str, stdout: io.StringIO, stderr: io.StringIO, environ: dict[str, str], expected: bool
) -> None:
    assert progress.wanted(output, stdout, stderr, environ) is expected


def test_a_quick_run_draws_nothing() -> None:
    stream = io.StringIO()
    ticks = _clock([0.0, 0.1, 0.2, 0.3])
    assert list(progress.track("abc", str, stream, clock=lambda: next(ticks))) == ["a", "b", "c"]
    assert stream.getvalue() == ""


def test_a_long_run_redraws_at_most_ten_times_a_second_and_clears_its_line() -> None:
    stream = io.StringIO()
    ticks = _clock([0.0, 0.2, 0.6, 0.65, 0.71, 0.9])
    items = ["a/Dockerfile", "b/Dockerfile", "c/Dockerfile", "d/Dockerfile", "e/Dockerfile"]

    assert list(progress.track(items, str, stream, clock=lambda: next(ticks), width=80)) == items

    assert stream.getvalue() == (
        "\r\033[Kecr-ptc: 2 files b/Dockerfile"
        "\r\033[Kecr-ptc: 4 files d/Dockerfile"
        "\r\033[Kecr-ptc: 5 files e/Dockerfile"
        "\r\033[K"
    )


def test_a_long_path_is_cut_from_the_left_to_fit_the_terminal() -> None:
    stream = io.StringIO()
    path = "very/" * 30 + "Dockerfile"
    list(progress.track([path], str, stream, clock=lambda: 9.0, delay=0, width=40))
    line = stream.getvalue().split("\r\033[K")[1]
    assert len(line) == 39 and line.endswith("/very/Dockerfile") and "…" in line


# --- the real command on a pseudo-terminal --------------------------------------------------------
_WRAPPER = (
    "import migrate.output.progress as p; p.DELAY = p.INTERVAL = 0\n"
    "from migrate.cli import main; raise SystemExit(main())"
)


def _run(
    cwd: Path, *args: str, stdout_tty: bool = True, env: dict[str, str] | None = None
) -> tuple[str, str]:
    """Run with stderr (and stdout) on pseudo-terminals; every file redraws the line."""
    masters, slaves = zip(*(pty.openpty() for _ in range(2)))
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    environ |= {"TERM": "xterm"} | (env or {})
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRAPPER, *args],
        cwd=cwd,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=slaves[0] if stdout_tty else subprocess.PIPE,
        stderr=slaves[1],
    )
    for fd in slaves:
        os.close(fd)
    chunks: dict[int, bytes] = {fd: b"" for fd in masters}
    if not stdout_tty:
        chunks[masters[0]] = proc.stdout.read() if proc.stdout else b""
        os.close(masters[0])
    open_fds = [fd for fd in masters if stdout_tty or fd != masters[0]]
    while open_fds:
        for fd in select.select(open_fds, [], [], 30)[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed its side
                data = b""
            if data:
                chunks[fd] += data
            else:
                open_fds.remove(fd)
                os.close(fd)
    proc.wait(timeout=30)
    return chunks[masters[0]].decode(), chunks[masters[1]].decode()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for n in range(5):
        (tmp_path / f"svc{n}").mkdir()
        (tmp_path / f"svc{n}" / "Dockerfile").write_text("FROM alpine:3.20\n")
    return tmp_path


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals")
def test_terminal_gets_progress_on_stderr_and_colour_on_stdout(tree: Path) -> None:
    out, err = _run(tree, "lint")
    assert "ecr-ptc: 5 files svc4/Dockerfile" in err and err.endswith("\r\033[K")
    assert "\033[31mPTC001\033[0m" in out


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals")
@pytest.mark.parametrize(
    ("args", "stdout_tty", "env", "shows_progress", "colour"),
    [
        pytest.param(("lint", "--format", "json"), True, {}, False, False, id="json"),
        pytest.param(("lint", "--format", "github"), True, {}, False, False, id="github"),
        pytest.param(("lint",), False, {}, False, False, id="stdout-piped"),
        pytest.param(("lint",), True, {"NO_COLOR": "1"}, True, False, id="no-color"),
    ],
)
def test_no_progress_or_colour_where_a_machine_reads(
    tree: Path,
    args: tuple[str, ...],
    stdout_tty: bool,
    env: dict[str, str],
    shows_progress: bool,
    colour: bool,
) -> None:
    out, err = _run(tree, *args, stdout_tty=stdout_tty, env=env)
    assert ("ecr-ptc: 5 files" in err) is shows_progress
    assert ("\033[" in out) is colour
    assert "PTC001" in out
