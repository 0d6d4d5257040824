"""Where the CLI writes: plans and results to stdout, errors to stderr, colour only on a terminal.

`out` and `err` are rich `Console`s made on first use (module `__getattr__`), so a command that
prints nothing through them, such as `--help`, never imports rich (issue 15 point 1).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    out: Console
    err: Console


def _console(stderr: bool) -> "Console":
    from rich.console import Console

    # markup off: addresses such as notion.t.page["x"] must print as they are, not as rich tags
    return Console(stderr=stderr, highlight=False, soft_wrap=True, markup=False)


def __getattr__(name: str) -> Any:
    """`out` (stdout) and `err` (stderr), made once on first access."""
    if name in ("out", "err"):
        return globals().get(name) or globals().setdefault(name, _console(stderr=name == "err"))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_terminal() -> bool:
    return sys.stdout.isatty()


def stdin_is_terminal() -> bool:
    """True when a person can answer a prompt."""
    return sys.stdin.isatty()


def error(message: str) -> None:
    """`Error: <message>` on stderr, red on a terminal. Never given a token (messages hold none)."""
    from rich.markup import escape

    __getattr__("err").print(f"[bold red]Error:[/bold red] {escape(message)}", markup=True)


def plain(text: str) -> None:
    """Text already rendered (maybe with ANSI colour codes) to stdout, unchanged."""
    sys.stdout.write(text)
    sys.stdout.flush()
