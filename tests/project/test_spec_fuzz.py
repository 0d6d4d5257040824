"""Whatever text a database file holds, loading fails only with SpecError (or succeeds)."""

from __future__ import annotations

import shutil

from hypothesis import HealthCheck, given, settings, strategies as st

from reconciler.errors import SpecError
from reconciler.project import load_project

_PIECES = st.sampled_from([
    "title: T\n", "properties:\n", "  Name: {type: title}\n", "  X: {type: select, options: [a, A]}\n",
    "  R: {type: relation, database: tasks, two_way: true}\n", "- ", ": ", "{", "[", "&a ", "*a ",
    "${X}", "\t", "  ", "\n", "'", '"', "!!binary ", "<<: ", "---\n", "%YAML 1.2\n",
])
_TEXT = st.one_of(st.text(), st.lists(_PIECES, max_size=12).map("".join),
                  st.lists(st.one_of(_PIECES, st.text(max_size=5)), max_size=12).map("".join))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXT)
def test_arbitrary_database_file_raises_only_spec_error(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("fuzz")
    path = root / "schemas" / "notion" / "tasks.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_project(root, env={})
    except SpecError as exc:
        assert exc.problems and all(p.line >= 1 and p.col >= 1 for p in exc.problems)
    finally:
        shutil.rmtree(root)
