"""Messages a user reads cite what a user can open: Notion's public API reference pages and
README sections that exist, never the project's internal NOTION-API.md (installed users do not
have it) nor a README section that is not there."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import reconciler

PACKAGE = Path(reconciler.__file__).parent
README = PACKAGE.parent / "README.md"


@functools.cache  # both tests read every module: parse each once per run
def _message_strings(path: Path) -> list[tuple[int, str]]:
    """String literals of a module that are not docstrings (f-string parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def test_no_message_cites_the_internal_notion_notes():
    found = [f"{path.relative_to(PACKAGE)}:{line}" for path in sorted(PACKAGE.rglob("*.py"))
             for line, text in _message_strings(path) if "NOTION-API" in text]
    assert found == []


def test_every_readme_section_a_message_cites_exists():
    headings = {m.group(1).strip() for m in re.finditer(r"^#+ (.+)$", README.read_text(), re.M)}
    cited = {(f"{path.relative_to(PACKAGE)}:{line}", m.group(1))
             for path in sorted(PACKAGE.rglob("*.py")) for line, text in _message_strings(path)
             for m in re.finditer(r'README(?:\.md)?[,:] *\\?"?([A-Z][^"\\)]+?)\\?"?[),\]]', text)}
    assert cited and [c for c in cited if c[1] not in headings] == []
