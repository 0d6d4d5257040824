"""Where the CLI writes: plans and results to stdout, errors to stderr, colour only on a terminal."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

# markup off: addresses such as notion.t.page["x"] must print as they are, not as rich tags
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def is_terminal() -> bool:
    return sys.stdout.isatty()


def stdin_is_terminal() -> bool:
    """True when a person can answer a prompt."""
    return sys.stdin.isatty()


def error(message: str) -> None:
    """`Error: <message>` on stderr, red on a terminal. Never given a token (messages hold none)."""
    err.print(f"[bold red]Error:[/bold red] {escape(message)}", markup=True)


def plain(text: str) -> None:
    """Text already rendered (maybe with ANSI colour codes) to stdout, unchanged."""
    sys.stdout.write(text)
    sys.stdout.flush()
