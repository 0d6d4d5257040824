"""What every reader gets (`ReadContext`) and the helpers they share (globs, text files)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import SpecProblem, relative
from reconciler.project.content_docs import SourceDoc
from reconciler.safe_yaml import MAX_CONTENT_BYTES, check_size, not_utf8


@dataclass(frozen=True)
class ReadContext:
    """A reader's inputs: the project `root`, the `source:` document, and `spec_problem(loc,
    message)`, which locates a problem at `loc` under `content.source` of the spec file."""

    root: Path
    doc: SourceDoc
    spec_problem: Callable[[tuple, str], SpecProblem]

    def rel(self, path: Path) -> str:
        """`path` as messages name it: relative to the root, with forward slashes."""
        return Path(relative(path, self.root)).as_posix()

    def glob(self, pattern: str, loc: tuple) -> tuple[list[Path], list[SpecProblem]]:
        """Files matching `pattern` under the root, sorted; an error when none match."""
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            return [], [self.spec_problem(loc, f"{pattern!r}: source paths are relative to the "
                                               "project root and stay inside it")]
        try:
            files = sorted(p for p in self.root.glob(pattern) if p.is_file())
        except (ValueError, NotImplementedError) as exc:
            return [], [self.spec_problem(loc, f"{pattern!r} is not a valid glob: {exc}")]
        if not files:
            return [], [self.spec_problem(loc, f"no files match {pattern}")]
        return files, []

    def text(self, path: Path) -> tuple[str | None, list[SpecProblem]]:
        """The UTF-8 text of `path`, or None with a problem located in that file (also when it
        is larger than `safe_yaml.MAX_CONTENT_BYTES`)."""
        try:
            too_big = check_size(path, MAX_CONTENT_BYTES, "content file")
            if too_big is not None:
                return None, [SpecProblem(self.rel(path), 1, 1, too_big.message)]
            return path.read_text(encoding="utf-8"), []
        except UnicodeDecodeError as exc:
            where = not_utf8(exc)
            return None, [SpecProblem(self.rel(path), where.line, where.col, where.message)]
        except OSError as exc:
            return None, [SpecProblem(self.rel(path), 1, 1,
                                      f"cannot read the file: {exc.strerror}")]
