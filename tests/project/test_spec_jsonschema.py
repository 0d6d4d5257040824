"""The JSON Schemas written for editors match the document models and the bundled files.

`jsonschema` is not installed in the venv, so the bundled files are validated by the document
models (which generate the schemas) and the schemas are checked for their enums.
"""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.model.notion import NUMBER_FORMATS, OPTION_COLORS, ROLLUP_FUNCTIONS
from reconciler.model.property_types import PROPERTY_TYPES
from reconciler.project import write_schemas
from reconciler.project.documents import DatabaseDoc, VocabularyDoc
from reconciler.project.config import Config
from reconciler.project.yaml import load_yaml


def test_write_schemas_writes_one_deterministic_file_per_spec_kind(tmp_path: Path):
    paths = write_schemas(tmp_path / "out")
    assert [p.name for p in paths] == [
        "notion-database.schema.json", "vocabulary.schema.json", "reconciler.schema.json",
        "supabase-table.schema.json", "supabase-object.schema.json"]
    first = [p.read_bytes() for p in paths]
    assert [p.read_bytes() for p in write_schemas(tmp_path / "out")] == first


def test_database_schema_offers_every_enum(tmp_path: Path):
    schema = json.loads(write_schemas(tmp_path)[0].read_text())
    text = json.dumps(schema)
    item = schema["properties"]["properties"]["additionalProperties"]
    assert set(item["properties"]["type"]["enum"]) == set(PROPERTY_TYPES)
    assert set(item["discriminator"]["mapping"]) == set(PROPERTY_TYPES)
    for values in (NUMBER_FORMATS, OPTION_COLORS, ROLLUP_FUNCTIONS):
        assert json.dumps(list(values)) in text
    assert schema["$defs"]["SelectDoc"]["title"] == "select property"


def test_bundled_files_validate_against_their_models(repo: Path):
    pairs = [(p, DatabaseDoc) for p in (repo / "schemas" / "notion").glob("*.yaml")]
    pairs += [(p, VocabularyDoc) for p in (repo / "schemas" / "vocab").glob("*.yaml")]
    pairs += [(repo / "reconciler.yaml", Config)]
    for path, model in pairs:
        doc, problems = load_yaml(path, path.name, {})
        assert not problems, problems
        model.model_validate(doc.data)
        assert model.model_json_schema()["additionalProperties"] is False


def test_object_schema_offers_every_kind(tmp_path: Path):
    schema = json.loads(write_schemas(tmp_path)[-1].read_text())
    assert set(schema["discriminator"]["mapping"]) == {
        "enum", "extension", "sequence", "view", "function", "default_privileges"}


def test_the_committed_schemas_are_current(tmp_path: Path):
    """Every bundled spec file's first line points at `schemas/.schema/`, so the schemas are
    committed with them; this fails (in CI too) when the document models changed and they
    were not written again. Fix: `reconciler schema` at the repository root, and commit."""
    committed = Path(__file__).resolve().parents[2] / "schemas" / ".schema"
    for path in write_schemas(tmp_path):
        assert (committed / path.name).read_text() == path.read_text(), \
            f"schemas/.schema/{path.name} is out of date: run `reconciler schema` and commit it"
    assert sorted(p.name for p in committed.iterdir()) == sorted(
        p.name for p in tmp_path.iterdir())
