"""Rendering a plan document as text (terminal), markdown (pull-request review) or JSON.

No I/O besides reading the bundled jinja2 templates. `render(doc, "json")` is the document
itself (`model_dump`-based), never a template.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2

from reconciler.render.view import plan_view

Format = Literal["text", "markdown", "json"]
_TEMPLATES = {"text": "plan.txt.j2", "markdown": "plan.md.j2"}
_COLORS = {"create": "32", "update": "33", "rename": "36", "delete": "31", "archive": "31",
           "manual": "35"}


def templates_dir() -> Path:
    """The templates folder: inside the installed wheel, else the source tree's `templates/`."""
    packaged = resources.files("reconciler") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "templates"


def _environment(color: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)

    def paint(text: str, action: str, bold: bool = False) -> str:
        if not color or action not in _COLORS:
            return text
        return f"\x1b[{'1;' if bold else ''}{_COLORS[action]}m{text}\x1b[0m"

    env.filters["paint"] = paint
    env.filters["plural"] = lambda n, word: f"{n} {word}" + ("" if n == 1 else "s")
    env.filters["md"] = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    return env


def render(doc: dict[str, Any], fmt: Format = "text", *, color: bool = False) -> str:
    """The plan document `doc` (see `plan.planfile.to_document`) in format `fmt`.

    Raises ValueError for an unknown format.
    """
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if fmt not in _TEMPLATES:
        raise ValueError(f"unknown format {fmt!r}: use text, markdown or json")
    return _environment(color).get_template(_TEMPLATES[fmt]).render(plan=plan_view(doc))
