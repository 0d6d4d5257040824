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

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Source kinds, in the order messages list them.
SOURCE_KINDS: tuple[str, ...] = ("json", "yaml", "markdown", "markdown_sections", "csv", "python")


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitDoc(_Doc):
    """`split: {regex: '\\s*[,;]\\s*'}`: split at every match of a regular expression."""

    regex: str = Field(description="Regular expression (Python syntax) matching the separators.")


#: Where a multi-line field of a `markdown_sections` source ends (besides a custom regex).
UNTIL_WORDS = ("marker", "blank", "heading", "line")


class FieldDoc(_Doc):
    """`{path: …, split: ',', strip: '^#', map: {Hi: High}, default: …}`: where a field's value
    is and how the text people wrote becomes the value (docs/content.md "Values as written").

    Steps, in order: the value at `path`; a list (a markdown list, or text cut at `split`);
    `strip` and `map` applied to each item; `default` when nothing is left.
    """

    path: str = Field(description="Dotted path ([n] indexes allowed), a column name (csv), "
                                  "a special ($body, $stem, $path, $heading.N) or a regex (sections).")
    default: Any = Field(None, description="Value used when the path is absent in a row, or "
                                           "nothing is left of it after strip and map.")
    split: str | SplitDoc | None = Field(
        None, description="Cut text into a list at this separator (or at every match of "
                          "{regex: …}); items are trimmed and empty ones dropped. For "
                          "multi_select, people, relation, files and array columns.")
    strip: str | None = Field(None, description="Regular expression whose matches are removed "
                                                "from the value (from each item of a list).")
    map: dict[str, Any] | None = Field(
        None, description="Value (or item) → what to write instead, matched ignoring case "
                          "(`{Hi: High}`); null drops the item.")
    until: list[str] | None = Field(
        None, description="markdown_sections: where this field's text ends, overriding the "
                          "source's `until` (marker, blank, heading, line, or a regex).")
    format: Literal["markdown", "plain"] | None = Field(
        None, description="Text of a markdown source is markdown (default): rich_text gets "
                          "bold/italic/code/links as annotations. plain: written as is.")


FieldSpec = str | FieldDoc


class SectionsDoc(_Doc):
    """`markdown_sections: {files: GLOB, heading: REGEX, fields: {…}}`: each heading starts a row."""

    files: str = Field(description="Glob of markdown files, relative to the project root.")
    heading: str = Field(description="Regex a heading line must match (searched per line); its "
                                     "groups are $heading.1, $heading.2, …")
    fields: dict[str, FieldSpec] | None = Field(
        None, description="Field → $heading.N, $body, $stem, $path or a regex searched in the "
                          "section (its first group is the value).")
    end: str | None = Field(None, description="Regex of a line that ends a section (besides the "
                                              "next heading of the same or a higher level).")
    until: list[str] | None = Field(
        None, description="Where a field's text ends when its value runs to the end of its line: "
                          "any of marker (a line starting with a field marker), blank (a blank "
                          "line), heading, line (the value is one line), or a regex. "
                          "Default [marker, blank, heading].")
    marker: str | None = Field(None, description="Regex of a field marker line (ends a "
                                                 "multi-line field); default: a line starting "
                                                 "with **Label**: or **Label:**.")


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
    languages: list[str] | None = Field(
        None, description="Languages dates are written in (codes of the dateparser package: "
                          "en, nb, de, …); default [en]. ISO dates need none.")
    date_order: Literal["DMY", "MDY", "YMD"] | None = Field(
        None, description="Order of day, month and year in all-numeric dates (03/04/2025); "
                          "such dates are refused until it is declared.")
    locale: str | None = Field(None, description="Locale numbers are written in (nb, de, fr, "
                                                 "en_US…): `1 234,5`; default: plain 1234.5.")

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
    """The `content:` section: `key`, `hash`, `source`, and whether every field is personal
    data (`sensitive`)."""

    key: str = Field(description="Field (property/column) whose value identifies a row.")
    hash: str = Field(description="Field (rich_text / text) holding the content hash.")
    source: SourceDoc
    sensitive: bool = Field(
        False, description="Every field of these rows, the key included, is personal data: "
                           "plans, the ledger and reports show keyed digests and name rows by a "
                           "digest of their key. Without it, the sensitive properties or columns "
                           "are.")
