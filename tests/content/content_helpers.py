"""Builders shared by the content tests (imported by module, not a fixture)."""

from __future__ import annotations


#: A Notion database with one property of each kind the cases need (content: appended).
MODULES = """title: Modules
properties:
  Module: {type: title}
  Features: {type: multi_select, vocabulary: features}
  Stage: {type: select, options: [alpha, beta, ga]}
  Labels: {type: multi_select}
  SLA: {type: number}
  Coverage: {type: number, format: percent}
  Active: {type: checkbox}
  Released: {type: date}
  Owner: {type: people}
  Site: {type: url}
  Notes: {type: rich_text}
  SHA: {type: rich_text}
  Created: {type: created_time}
  Score: {type: formula, expression: "1"}
"""
CLOSED = "mode: closed\noptions: [memory.fold, memory.recall, identity.auth]\n"
ADDITIVE = "mode: additive\noptions: [memory.fold, memory.recall, identity.auth]\n"


DB = "schemas/notion/modules.yaml"
VOCAB = "schemas/vocab/features.yaml"
#: Line of `content:` in DB (MODULES has 16 lines).
CONTENT_LINE = MODULES.count("\n") + 1


def notion_files(content: str, files: dict[str, str] | None = None,
                 vocab: str = ADDITIVE) -> dict[str, str]:
    """The modules database with `content` (YAML text, `content:` included) plus `files`."""
    return {DB: MODULES + content, VOCAB: vocab, **(files or {})}


def json_content(fields: str = "{Module: name, Features: features, SLA: sla.p95_ms}",
                 glob: str = "content/m/*.json", extra: str = "") -> str:
    return (f"content:\n  key: Module\n  hash: SHA\n  source:\n    json: {glob}\n"
            f"{extra}    fields: {fields}\n")
