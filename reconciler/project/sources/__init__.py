"""Content source readers: one per `source:` kind, each `read(ctx) -> (records, problems)`.

`READERS` maps a kind (`json`, `yaml`, `markdown`, `markdown_sections`, `csv`, `python`) to its
reader; `project.content` picks one by the document's kind. Readers never raise for bad input: every
problem is a `SpecProblem` located in the source file (data) or in the spec file (the `source:`).
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.errors import SpecProblem
from reconciler.project.sources.base import ReadContext
from reconciler.project.sources.csv_source import read_csv
from reconciler.project.sources.manifests import read_json, read_yaml
from reconciler.project.sources.markdown import read_markdown
from reconciler.project.sources.paths import Record
from reconciler.project.sources.python_source import read_python
from reconciler.project.sources.sections import read_sections

Reader = Callable[[ReadContext], "tuple[list[Record], list[SpecProblem]]"]

READERS: dict[str, Reader] = {
    "json": read_json,
    "yaml": read_yaml,
    "markdown": read_markdown,
    "markdown_sections": read_sections,
    "csv": read_csv,
    "python": read_python,
}

__all__ = ["READERS", "ReadContext", "Reader", "Record"]
