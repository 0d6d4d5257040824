"""Rendering a plan document as text (terminal), markdown (pull-request review) or JSON.

No I/O besides reading the bundled jinja2 templates. `render(doc, "json")` is the document
itself (`model_dump`-based), never a template. Colour (text on a terminal) is rich's: each
action has a rich style (`STYLES`), rendered to ANSI by `rich.style.Style.render`; without
colour the text is the same, byte for byte, without the codes.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2
from rich.color import ColorSystem
from rich.style import Style

from reconciler.render.markdown import render_markdown
from reconciler.render.view import plan_view

Format = Literal["text", "markdown", "json"]
#: Rich style of each action on a terminal.
STYLES = {"create": "green", "update": "yellow", "rename": "cyan", "delete": "red",
          "archive": "red", "manual": "magenta"}
_KNOWN_AFTER = re.compile(r"\(known after apply: [^)]*\)")
#: Longest value the markdown report shows in one line, in characters.
SHORT_VALUE = 200


def templates_dir() -> Path:
    """The templates folder: inside the installed wheel, else the source tree's `templates/`."""
    packaged = resources.files("reconciler") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "templates"


@functools.cache
def _environment(color: bool) -> jinja2.Environment:
    """The templates' environment, one per process and colour setting: jinja2 keeps each
    compiled template in its environment (checking the file's mtime on each use), and compiling
    the text template costs 10 to 30 ms here, more than rendering most plans."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)

    def paint(text: str, action: str, bold: bool = False) -> str:
        if not color or action not in STYLES:
            return text
        style = Style.parse(STYLES[action] + (" bold" if bold else ""))
        return style.render(text, color_system=ColorSystem.STANDARD)

    env.filters["paint"] = paint
    env.filters["plural"] = lambda n, word: f"{n} {word}" + ("" if n == 1 else "s")
    env.filters["md"] = md_text
    env.filters["code"] = md_code
    env.filters["unref"] = lambda s: _KNOWN_AFTER.sub("(known after apply)", str(s))
    env.filters["short"] = lambda s: s if len(str(s)) <= SHORT_VALUE else \
        str(s)[:SHORT_VALUE] + "…"
    return env


def md_text(text: object) -> str:
    """Text for markdown on one line: HTML and table pipes escaped."""
    return " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;") \
        .replace(">", "&gt;").replace("|", "\\|")


def md_code(text: object) -> str:
    """Inline code on one line, fenced with more backticks than the text holds (CommonMark
    §6.1 "Code spans")."""
    text = " ".join(str(text).split())
    fence = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render(doc: dict[str, Any], fmt: Format = "text", *, color: bool = False) -> str:
    """The plan document `doc` (see `plan.planfile.to_document`) in format `fmt`.

    Raises ValueError for an unknown format.
    """
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if fmt == "markdown":
        return render_markdown(_environment(False), plan_view(doc))
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}: use text, markdown or json")
    return _environment(color).get_template("plan.txt.j2").render(plan=plan_view(doc))
