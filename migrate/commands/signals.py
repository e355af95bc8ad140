"""How the process ends when it is told to: SIGTERM unwinds like Ctrl-C, a closed pipe ends
quietly."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so it unwinds as from Ctrl-C: a temp file being
    written is removed (source.write_atomic) and nothing is half done. Not a KeyboardInterrupt,
    which click would answer with a blank line for the terminal's ^C."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread (an embedding program): its handlers stay
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def silence_stdout() -> None:
    """After a broken pipe (`ecr-ptc scan | head`): Python flushes stdout at exit and would
    report the broken pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
