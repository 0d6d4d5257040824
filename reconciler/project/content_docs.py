"""What users write under `content:` in a Notion database or Supabase table file (pydantic).

```yaml
content:
  key: Module                 # field whose value identifies a row across runs
  hash: Provenance SHA        # field the engine writes the content hash into
  source:
    json: content/modules/*.json     # exactly one kind: json, yaml, markdown,
    items: modules                   #   markdown_sections, csv, python
    fields: {Module: name, SLA p95: sla.p95_ms, Coverage: {path: coverage, default: 0}}
```
Kinds and their path syntax are described in docs/content.md; `project.content` resolves these
documents into `model.content.ContentSet`s.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Source kinds, in the order messages list them.
SOURCE_KINDS: tuple[str, ...] = ("json", "yaml", "markdown", "markdown_sections", "csv", "python")


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldDoc(_Doc):
    """`{path: sla.p95_ms, default: 0}`: where a field's value is, and its value when absent."""

    path: str = Field(description="Dotted path ([n] indexes allowed), a column name (csv), "
                                  "a special ($body, $stem, $path, $heading.N) or a regex (sections).")
    default: Any = Field(None, description="Value used when the path is absent in a row.")


FieldSpec = str | FieldDoc


class SectionsDoc(_Doc):
    """`markdown_sections: {files: GLOB, heading: REGEX, fields: {…}}`: each heading starts a row."""

    files: str = Field(description="Glob of markdown files, relative to the project root.")
    heading: str = Field(description="Regex a heading line must match (searched per line); its "
                                     "groups are $heading.1, $heading.2, …")
    fields: dict[str, FieldSpec] | None = Field(
        None, description="Field → $heading.N, $body, $stem, $path or a regex searched in the "
                          "section (its first group is the value).")


class SourceDoc(_Doc):
    """Where the rows come from: exactly one kind, plus `fields` (and `items` for json/yaml)."""

    json_: str | None = Field(None, alias="json", description="Glob of JSON files; a file is a row.")
    yaml: str | None = Field(None, description="Glob of YAML files; a file is a row.")
    markdown: str | None = Field(None, description="Glob of markdown files with front matter.")
    markdown_sections: SectionsDoc | None = None
    csv: str | None = Field(None, description="A CSV file with a header row; a line is a row.")
    python: str | None = Field(None, description="module:function yielding dicts (the module is "
                                                 "imported with the project root on sys.path).")
    items: str | None = Field(None, description="json/yaml: dotted path to a list; each element "
                                                "is a row.")
    fields: dict[str, FieldSpec] | None = Field(None, description="Field → path in a row.")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _one_kind(self) -> "SourceDoc":
        kinds = self.kinds()
        if len(kinds) != 1:
            found = ", ".join(kinds) if kinds else "none"
            raise ValueError(f"give exactly one source kind ({', '.join(SOURCE_KINDS)}); "
                             f"found {found}")
        return self

    def kinds(self) -> list[str]:
        """The kinds given (a valid document has exactly one)."""
        return [k for k in SOURCE_KINDS if getattr(self, "json_" if k == "json" else k) is not None]

    @property
    def kind(self) -> str:
        return self.kinds()[0]

    @property
    def argument(self) -> Any:
        """The kind's value: a glob, a file, `module:function` or a `SectionsDoc`."""
        return getattr(self, "json_" if self.kind == "json" else self.kind)

    def field_specs(self) -> dict[str, FieldSpec]:
        """`fields`, from the source or from inside `markdown_sections`."""
        inner = self.markdown_sections.fields if self.markdown_sections is not None else None
        return dict(inner or self.fields or {})


class ContentDoc(_Doc):
    """The `content:` section: `key`, `hash` and `source`."""

    key: str = Field(description="Field (property/column) whose value identifies a row.")
    hash: str = Field(description="Field (rich_text / text) holding the content hash.")
    source: SourceDoc
