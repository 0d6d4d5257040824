"""`python: package.module:function`: a function of the project yields the rows as dicts.

The function runs in a child Python process (the same interpreter, about 30 ms to start): the
module is imported with the project root first on `sys.path`, the function is called with no
arguments, and it returns or yields mappings, each a row whose fields are dotted paths into it.
Rows come back pickled, so their values may be any plain data (text, numbers, booleans, dates,
lists, tuples, mappings). What the function prints goes to stderr (stdout holds only
the command's own output); stdin is empty.

Anything it raises (`KeyboardInterrupt` and `SystemExit` too), a row that is not a mapping, or a
process that ends without answering (`os._exit()`, a crash, a signal) is a problem located at
the `python:` line of the spec, naming the source file and line where it raised: never the end
of the run, never a silent success. Rows have no file line: they are named `module:function#n`,
n counting from 1. A Ctrl-C still stops the whole run.
"""

from __future__ import annotations

import os
import pickle
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from reconciler.errors import SpecProblem
from reconciler.project.sources.base import ReadContext
from reconciler.project.sources.paths import Record

_MODULE_FUNCTION = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*\Z")

#: The child's program (stdlib only): argv = root, module, function, answer file. The answer is
#: a pickled `("rows", [dict, …])`, `("not_mapping", n, type name)` or `("error", type name,
#: text, exit code or None, "file:line" or None)`.
_CHILD = r'''
import importlib, pickle, sys, traceback
from collections.abc import Mapping
root, module_name, func_name, out = sys.argv[1:5]
sys.argv = [module_name]
sys.path[:] = [root] + [p for p in sys.path if p not in ("", root)]

def plain(value):
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value

def where(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(root.rstrip("/\\") + ("\\" if "\\" in root else "/"))]
    if not frames:
        return None
    return "%s:%d" % (frames[-1].filename[len(root):].lstrip("/\\").replace("\\", "/"),
                      frames[-1].lineno)

try:
    func = getattr(importlib.import_module(module_name), func_name, None)
    if not callable(func):
        raise AttributeError("module %s has no function %s" % (module_name, func_name))
    result = func()
    rows = list(result) if result is not None else []
    bad = next((i for i, row in enumerate(rows, 1) if not isinstance(row, Mapping)), None)
    answer = ("not_mapping", bad, type(rows[bad - 1]).__name__) if bad else \
        ("rows", [plain(row) for row in rows])
except BaseException as exc:
    code = repr(exc.code) if isinstance(exc, SystemExit) else None
    answer = ("error", type(exc).__name__, str(exc), code, where(exc))
try:
    data = pickle.dumps(answer)
except Exception as exc:
    data = pickle.dumps(("error", "TypeError", "a row value cannot be passed on (%s); give "
                         "plain data: text, numbers, booleans, dates, lists, mappings" % exc,
                         None, None))
with open(out, "wb") as handle:
    handle.write(data)
'''


def read_python(ctx: ReadContext) -> tuple[list[Record], list[SpecProblem]]:
    """Call the function named by `python:` in a child process; see the module docstring."""
    reference = ctx.doc.python
    if not _MODULE_FUNCTION.match(reference):
        return [], [ctx.spec_problem(("python",), f"python: {reference!r} is not module:function")]
    module_name, func_name = reference.split(":")
    answer = _run(ctx.root, module_name, func_name)
    if answer[0] == "rows":
        return [Record(data=row, file=f"{reference}#{i}") for i, row in enumerate(answer[1], 1)], []
    return [], [ctx.spec_problem(("python",), f"python: {reference} {_failure(answer)}")]


def _failure(answer: tuple) -> str:
    """What went wrong, as the message says it after `python: module:function`."""
    if answer[0] == "not_mapping":
        return f"row {answer[1]} is a {answer[2]}, not a mapping"
    if answer[0] == "ended":
        return (f"ended its process without returning its rows ({answer[1]}): a content "
                "source must return or yield its rows, not end the run")
    _, kind, text, code, where = answer
    at = f" at {where}" if where else ""
    if code is not None:
        return (f"called sys.exit({code}){at} (a content source must return or yield its rows, "
                "not end the run)")
    return f"failed{at}: {kind}: {text}" if text else f"failed{at}: {kind}"


def _run(root: Path, module_name: str, func_name: str) -> tuple:
    """The child's answer (see `_CHILD`), or `("ended", how)` when it gave none."""
    handle, out = tempfile.mkstemp(prefix="reconciler-python-source-", suffix=".pickle")
    os.close(handle)
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(root), module_name, func_name, out],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, check=False)
        if done.stdout:  # what the source printed: stderr, never the command's output
            sys.stderr.write(done.stdout.decode(errors="replace"))
            sys.stderr.flush()
        data = Path(out).read_bytes()
        if not data:
            return ("ended", _how(done.returncode))
        try:
            return pickle.loads(data)
        except Exception as exc:  # noqa: BLE001 - a value of a class only the child knows
            return ("error", type(exc).__name__, f"a row value cannot be passed on ({exc}); give "
                    "plain data: text, numbers, booleans, dates, lists, mappings", None, None)
    finally:
        Path(out).unlink(missing_ok=True)


def _how(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}, e.g. os._exit()"

