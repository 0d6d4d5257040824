"""`python: package.module:function`: a function of the project yields the rows as dicts.

The module is imported with the project root first on `sys.path` (removed again afterwards) and
the function is called with no arguments; it returns or yields mappings, each a row whose fields
are dotted paths into it. Anything it raises, or a row that is not a mapping, is a problem
located at the `python:` line of the spec (rows have no file line: they are named
`module:function#n`, n counting from 1). A function that calls `sys.exit()` or raises any
`BaseException` other than `KeyboardInterrupt` is a problem too, never the end of the run.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from reconciler.errors import SpecProblem
from reconciler.project.sources.base import ReadContext
from reconciler.project.sources.paths import Record

_TARGET = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*\Z")


def read_python(ctx: ReadContext) -> tuple[list[Record], list[SpecProblem]]:
    """Call the function named by `python:`; see the module docstring."""
    target = ctx.doc.python
    if not _TARGET.match(target):
        return [], [ctx.spec_problem(("python",), f"python: {target!r} is not module:function")]
    module_name, func_name = target.split(":")
    try:
        # what the source prints goes to stderr: stdout holds only the command's output (a
        # plan, JSON), which scripts parse
        with contextlib.redirect_stdout(sys.stderr):
            rows = list(_call(ctx.root, module_name, func_name))
    except KeyboardInterrupt:
        raise  # Ctrl-C still stops the run
    except BaseException as exc:  # noqa: BLE001 - user code, sys.exit() too: a located problem
        what = f"called sys.exit({exc.code!r}) (a content source must return or yield its " \
            "rows, not end the run)" if isinstance(exc, SystemExit) else \
            f"failed: {type(exc).__name__}: {exc}"
        return [], [ctx.spec_problem(("python",), f"python: {target} {what}")]
    bad = [i for i, row in enumerate(rows, 1) if not isinstance(row, Mapping)]
    if bad:
        return [], [ctx.spec_problem(("python",), f"python: {target} row {bad[0]} is a "
                                     f"{type(rows[bad[0] - 1]).__name__}, not a mapping")]
    return [Record(data=_plain(row), file=f"{target}#{i}")
            for i, row in enumerate(rows, 1)], []


def _call(root: Path, module_name: str, func_name: str):
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(module_name)
        func = getattr(module, func_name, None)
        if not callable(func):
            raise AttributeError(f"module {module_name} has no function {func_name}")
        result = func()
        return list(result) if result is not None else []
    finally:
        try:
            sys.path.remove(str(root))
        except ValueError:
            pass


def _plain(value):
    """Mappings → dicts and tuples → lists, so dotted paths walk them like JSON."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
