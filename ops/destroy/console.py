"""How the teardown talks to the operator: one question at a time, progress lines, and ticks while a long step runs.

The steps take an ``Ask`` and a ``Say`` rather than the console itself, so the
tests answer the questions and collect the lines.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Final

#: A long step says it is still going this often.
TICK_SECONDS: Final = 30.0

#: Asks one question; returns the answer, or None when there is no one to answer (end of input).
Ask = Callable[[str], str | None]
#: Prints one line of progress.
Say = Callable[[str], None]


def ask_stdin(question: str) -> str | None:
    try:
        return input(question).strip()
    except EOFError:
        print()
        return None


def say(line: str) -> None:
    print(line, flush=True)


@contextlib.contextmanager
def ticking(what: str, progress: Say, every: float = TICK_SECONDS) -> Iterator[None]:
    """Says every ``every`` seconds that ``what`` is still going, until the block ends."""
    stop = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not stop.wait(every):
            progress(f"    ... {what}: {time.monotonic() - started:.0f} s")

    thread = threading.Thread(target=tick, name="tick", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
