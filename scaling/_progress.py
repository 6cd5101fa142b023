"""The one progress line of the package (foundation layer: it imports nothing from ``scaling``).

``Progress(total, label, stream)`` counts steps of a long piece of work and reports them on
``stream`` (stderr by default, looked up when the line is made):

* on a terminal (``stream.isatty()``) one line is redrawn in place with ``\\r`` (at most every
  0.1 s, and at the end) and closed with a newline;
* anywhere else (a log file, a pipe, a captured stream) it writes plain lines, one each time
  another ``every_percent`` of the work is done or ``every_seconds`` have passed, and one at the end,
  so a log holds a few complete lines instead of many updates glued onto one.

``enabled=False`` makes it silent (the callers' ``progress=False``); ``delay`` shows nothing until
the work has lasted that many seconds (short work stays quiet). Use it as a context manager, or
call :meth:`Progress.close` at the end. tqdm would do as well, but it is not a dependency.
"""

from __future__ import annotations

import sys
import threading
import time

__all__ = ["Progress"]

TTY_REDRAW_SECONDS = 0.1


class Progress:
    """Counts ``update(n)`` calls up to ``total`` and draws ``  label: done/total (note) in 12.3 s``."""

    def __init__(self, total: int, label: str, stream=None, *, enabled: bool = True, every_percent: float = 25.0,
                 every_seconds: float = 5.0, delay: float = 0.0, unit: str = ""):
        self.total, self.label, self.unit = max(0, int(total)), label, unit
        self.enabled = bool(enabled) and self.total > 0
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(self.enabled and getattr(self.stream, "isatty", lambda: False)())
        self.step = max(1, round(self.total * every_percent / 100.0))
        self.every_seconds, self.delay = every_seconds, delay
        self.done, self.note = 0, ""
        self.start = time.perf_counter()
        self.last_time, self.last_done = self.start, 0
        self.shown, self.width, self.closed = False, 0, False
        self._lock = threading.Lock()

    def text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        note = f" ({self.note})" if self.note else ""
        return f"  {self.label}: {self.done}/{self.total}{unit}{note} in {time.perf_counter() - self.start:.1f} s"

    def update(self, n: int = 1, note: str | None = None) -> None:
        """``n`` more steps are done; ``note`` (e.g. the current domain) is shown beside the count."""
        with self._lock:
            self.done = min(self.total, self.done + n) if self.total else self.done + n
            if note is not None:
                self.note = str(note)
            if not self.enabled or self.closed:
                return
            now = time.perf_counter()
            finished = self.done >= self.total
            if now - self.start < self.delay:
                return
            if self.tty:
                due = finished or not self.shown or now - self.last_time >= TTY_REDRAW_SECONDS
            else:
                due = (finished or not self.shown and self.delay > 0
                       or self.done // self.step > self.last_done // self.step
                       or now - self.last_time >= self.every_seconds)
            if due:
                self._draw(now)
            if finished:
                self._finish()

    def _draw(self, now: float) -> None:
        text = self.text()
        if self.tty:
            pad = " " * max(0, self.width - len(text))  # wipe the rest of a longer earlier line
            self.stream.write("\r" + text + pad)
            self.width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.shown, self.last_time, self.last_done = True, now, self.done

    def _finish(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\n")
            self.stream.flush()
        self.closed = True

    def close(self) -> None:
        """End the line (work stopped early, or finished): a terminal gets its newline."""
        with self._lock:
            if self.enabled and not self.closed:
                if self.shown and self.done != self.last_done:
                    self._draw(time.perf_counter())
                self._finish()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
