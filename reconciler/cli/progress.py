"""Progress on the screen: what a command is doing while it reads and writes, on stderr, only
when stderr is a terminal (rich).

While `screen()` is open it listens to the progress events (`reconciler.progress`: what is read
now, with counts) and the retries (`reconciler.notion.retry`: `rate limited, retry 2/7 in 3 s`):
the events update one transient status line (`Reading notion.tasks · read data sources: 12,
rows: 300`), each retry is printed as a line that stays. `Screen.bar(total)` adds the bar of an
apply. Off a terminal nothing is shown and nothing is listened to (`--debug` logs both).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections import Counter
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID,
                           TextColumn)
from rich.text import Text

from reconciler.cli import output

#: Loggers the screen listens to at INFO, and whether their records are retry lines.
LISTENED = {"reconciler.progress": False, "reconciler.notion.retry": True}


class _Count(MofNCompleteColumn):
    """`12/318` for a bar; nothing for the status line (no total)."""

    def render(self, task) -> Text:  # type: ignore[override]
        return Text("") if task.total is None else super().render(task)


class Screen(logging.Handler):
    """The live display of one command (`progress`: a rich `Progress` on stderr), or nothing
    (`progress` None: not a terminal)."""

    def __init__(self, progress: Progress | None):
        super().__init__(logging.INFO)
        self.progress = progress
        self.counts: Counter[str] = Counter()
        self.doing = ""
        self._status: TaskID | None = None
        self._bar: TaskID | None = None

    @property
    def active(self) -> bool:
        return self.progress is not None

    def emit(self, record: logging.LogRecord) -> None:
        if self.progress is None:
            return
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: show its template
            message = str(record.msg)
        if LISTENED.get(record.name):
            self.progress.console.print(Text(message, style="yellow"))
            return
        self.counts.update(getattr(record, "counts", {}) or {})
        self.doing = message
        self._show()

    def _show(self) -> None:
        read = ", ".join(f"{what}: {n}" for what, n in self.counts.items() if n)
        text = self.doing + (f" · read {read}" if read else "")
        task = self._bar if self._bar is not None else self._status
        if task is None:
            self._status = self.progress.add_task(text, total=None)  # type: ignore[union-attr]
        else:
            self.progress.update(task, description=text)  # type: ignore[union-attr]

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No live display while the block runs (a prompt, a plan being printed)."""
        if self.progress is None:
            yield
            return
        if self._status is not None:
            self.progress.remove_task(self._status)
            self._status = None
        self.progress.stop()
        try:
            yield
        finally:
            self.progress.start()

    def bar(self, total: int, description: str = "Applying") -> None:
        """Show a bar of `total` steps (the status line, if any, makes way for it)."""
        if self.progress is None:
            return
        if self._status is not None:
            self.progress.remove_task(self._status)
            self._status = None
        self._bar = self.progress.add_task(description, total=total)

    def advance(self, description: str | None = None) -> None:
        """One step of the bar done (`description`: what was just done)."""
        if self.progress is not None and self._bar is not None:
            self.progress.update(self._bar, advance=1,
                                 **({"description": description} if description else {}))


@contextlib.contextmanager
def screen(console: Console | None = None) -> Iterator[Screen]:
    """A `Screen` on `console` (default: stderr) while the block runs; inert when the console
    is not a terminal, or when `--debug` logs to it. Lines printed to stdout meanwhile appear
    above the display when stdout is the terminal too."""
    console = console or output.err
    if not console.is_terminal or logging.getLogger("reconciler").isEnabledFor(logging.DEBUG):
        yield Screen(None)  # off a terminal, or --debug: its log lines are the progress
        return
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                        _Count(), console=console, transient=True,
                        redirect_stdout=_is_tty(sys.stdout), redirect_stderr=False)
    shown = Screen(progress)
    loggers = [logging.getLogger(name) for name in LISTENED]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(shown)
        if not logger.isEnabledFor(logging.INFO):
            logger.setLevel(logging.INFO)
    try:
        with progress:
            yield shown
    finally:
        for logger, level in zip(loggers, levels):
            logger.removeHandler(shown)
            logger.setLevel(level)


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
