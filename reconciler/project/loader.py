"""Read a project's YAML into the desired model, or fail with every problem at once.

`load_project(root)` reads `reconciler.yaml` (or `schemas/reconciler.yaml`),
`schemas/vocab/*.yaml` and `schemas/notion/*.yaml`, validates each file against its document
model (`project.documents`), checks the references between files, and resolves the documents
(`project.resolve`). Every problem of every file is collected and raised as one `SpecError`
(`file:line:col: message`, files relative to the root). Nothing is ever written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from reconciler import redact
from reconciler.digest_key import load_digest_key
from reconciler.errors import ConfigError, SpecError, SpecProblem, relative
from reconciler.model.content import ContentSet
from reconciler.model.notion import NotionDatabases, Vocabulary
from reconciler.model.sensitive import Sealer
from reconciler.model.sync import SyncTable
from reconciler.project.content import load_content
from reconciler.project.config import CONFIG_PATHS, Config, config_paths
from reconciler.project.documents import DatabaseDoc, VocabularyDoc, explain_error
from reconciler.project.checks import check_databases, check_vocabulary
from reconciler.project.resolve import resolve_notion, resolve_vocabulary
from reconciler.model.postgres_objects import SchemaObjects
from reconciler.project.supabase import load_supabase_spec, mirror_doc, read_spec_docs
from reconciler.project.sync import load_sync
from reconciler.project.yaml import Loaded, environment, load_yaml, validate

D = TypeVar("D", bound=BaseModel)

#: Logical names (file stems): they appear in addresses such as `notion.<name>`.
LOGICAL_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")

#: Spec directories under `schemas/`, in reading order.
SPEC_DIRS: tuple[str, ...] = ("vocab", "notion", "supabase")


@dataclass(frozen=True)
class Project:
    """A loaded, valid project: the desired state of every declared resource.

    `files` are the absolute paths of every spec file read; `spec_hash` is
    `"sha256:<hex>"` over their sorted (relative path, bytes), recorded in plan headers.
    `supabase` (tables) and `supabase_objects` (enum types, extensions, sequences, views,
    functions, default privileges) are filled by the Supabase loader (`project.supabase`);
    `locations` says where each Supabase resource is declared (`{address: "file:line:col"}`).
    `content` holds one `ContentSet` per `content:` section (`project.content`), in file order,
    and `notion` already carries the values of additive vocabularies that the content uses.
    `sync` holds the mirrored tables kept in step with their Notion databases (`project.sync`).
    `sealer` digests its sensitive values under the project's digest key (`model.sensitive`,
    `digest_key`), read or made the first time a digest is needed.
    """

    root: Path
    config: Config
    notion: NotionDatabases
    vocabularies: tuple[Vocabulary, ...]
    files: tuple[Path, ...]
    spec_hash: str
    supabase: tuple = ()
    content: tuple[ContentSet, ...] = ()
    sync: tuple[SyncTable, ...] = ()
    supabase_objects: SchemaObjects = SchemaObjects()
    locations: Mapping[str, str] = field(default_factory=dict)
    sealer: Sealer | None = None


def find_root(start: Path) -> Path:
    """The nearest directory at or above `start` holding `reconciler.yaml` or `schemas/`.

    Started inside `schemas/`, it returns the directory above (not `schemas/` itself, even when
    `schemas/reconciler.yaml` exists). Raises `ConfigError` when there is none.
    """
    start = Path(start).resolve()
    for here in (start, *start.parents):
        if here.name == "schemas" and (here / "reconciler.yaml").is_file():
            return here.parent
        if (here / "schemas").is_dir() or (here / "reconciler.yaml").is_file():
            return here
    raise ConfigError(
        f"No reconciler project in {start} or any directory above it: run `reconciler init` "
        "at the root of your project (it writes reconciler.yaml and schemas/), or run from "
        "inside a project.")


def spec_files(root: Path) -> list[Path]:
    """Every spec file of the project: config, then `schemas/<dir>/*.yaml|*.yml` by name."""
    files = config_paths(root)
    for sub in SPEC_DIRS:
        folder = root / "schemas" / sub
        if folder.is_dir():
            files += sorted(p for p in folder.iterdir()
                            if p.suffix in (".yaml", ".yml") and p.is_file())
    return files


def compute_spec_hash(root: Path, files: list[Path]) -> str:
    """`"sha256:<hex>"` over the sorted (relative path, bytes) of `files`."""
    digest = hashlib.sha256()
    for rel, path in sorted((Path(relative(p, root)).as_posix(), p) for p in files):
        data = path.read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
    return f"sha256:{digest.hexdigest()}"


def load_project(root: Path, env: Mapping[str, str] | None = None) -> Project:
    """Load and validate the project at `root`; `env` defaults to `environment(root)`.

    Returns a `Project` with the resolved desired model. Raises `SpecError` listing every
    problem of every file (YAML, schema, references); `ConfigError` when `root` is not a
    directory; OSError for unreadable directories.
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"Project root {root} is not a directory: run from your project "
                          "(the directory holding reconciler.yaml and schemas/).")
    env = dict(environment(root) if env is None else env)
    files = spec_files(root)
    problems: list[SpecProblem] = []
    config = _load_config(root, env, problems)
    vocabs, vocab_names = _load_dir(root, "vocab", VocabularyDoc, env, problems)
    dbs, db_names = _load_dir(root, "notion", DatabaseDoc, env, problems)
    for item in vocabs.values():
        problems += check_vocabulary(item)
    problems += check_databases(dbs, db_names, vocab_names, config)
    notion = _resolve_or_none(dbs, vocabs, config, partial=bool(problems))
    spec_docs = read_spec_docs(root, env)
    spec, more = load_supabase_spec(root, env, notion or NotionDatabases(), spec_docs)
    supabase = spec.tables
    # a table mirroring a database whose own file is broken reports nothing more: its columns
    # cannot be derived, and that file's problems already say why
    broken = set(db_names) - set(dbs)
    followers = {item.file for item in spec_docs[0]
                 if item.doc.mirror is not None and mirror_doc(item.doc.mirror).database in broken}
    problems += [p for p in more if p.file not in followers
                 and (notion is not None or not p.message.startswith("mirror:"))]
    if problems:
        notion = None
    content: tuple[ContentSet, ...] = ()
    sync: tuple[SyncTable, ...] = ()
    if not problems:
        content, notion, problems = load_content(root, dbs, notion,
                                                  spec.objects.with_enum_labels(supabase), spec_docs[0])
        sync, more = load_sync(root, spec_docs[0], supabase, notion, dbs, env)
        problems += more
    if problems:
        raise SpecError(problems)
    vocabularies = {k: resolve_vocabulary(k, v.doc) for k, v in vocabs.items()}
    return Project(root=root, config=config, notion=notion,
                     vocabularies=tuple(vocabularies.values()), files=tuple(files),
                     spec_hash=compute_spec_hash(root, files), supabase=supabase,
                     content=content, sync=sync, supabase_objects=spec.objects,
                     locations=spec.locations,
                     sealer=Sealer(lambda: load_digest_key(root, env), remember=redact.remember))


def _resolve_or_none(dbs, vocabs, config, *, partial: bool) -> NotionDatabases | None:
    """The resolved Notion side, which `mirror:` tables derive their columns from.

    With `partial` (other files have problems) the databases that did validate are resolved if
    they can be, so mirror tables of healthy databases report only their own problems; None when
    even that is impossible (a reference into a broken file).
    """
    vocabularies = {k: resolve_vocabulary(k, v.doc) for k, v in vocabs.items()}
    try:
        return resolve_notion({k: v.doc for k, v in dbs.items()}, vocabularies,
                              config.notion.parent_page_id)
    except (KeyError, ValueError, AttributeError, TypeError):
        if partial:
            return None
        raise


def _load_config(root: Path, env: Mapping[str, str], problems: list[SpecProblem]) -> Config:
    """`reconciler.yaml` (or `schemas/reconciler.yaml`); defaults when absent or invalid.

    A missing `notion.parent_page_id` defaults to `$NOTION_PARENT_PAGE_ID` (DESIGN.md).
    """
    paths = config_paths(root)
    for extra in paths[1:]:
        problems.append(SpecProblem(relative(extra, root), 1, 1,
                                    f"a second config file: keep only {CONFIG_PATHS[0]} "
                                    f"and delete {relative(extra, root)}"))
    data = {}
    if paths:
        ydoc, more = load_yaml(paths[0], relative(paths[0], root), dict(env), remember=True)
        problems += more
        if ydoc is None:
            return Config()
        ydoc.data = {} if ydoc.data is None else ydoc.data
        config, more = validate(Config, ydoc)
        problems += more
        if config is None:
            return Config()
        data = ydoc.data
    else:
        config = Config()
    if "parent_page_id" not in ((data.get("notion") or {}) if isinstance(data, dict) else {}):
        parent = (env.get("NOTION_PARENT_PAGE_ID") or "").strip() or None
        config = config.model_copy(update={
            "notion": config.notion.model_copy(update={"parent_page_id": parent})})
    return config


def _load_dir(root: Path, sub: str, model: type[D], env: Mapping[str, str],
              problems: list[SpecProblem]) -> tuple[dict[str, Loaded[D]], set[str]]:
    """Every `schemas/<sub>/*.yaml` validated by `model`.

    Returns the valid documents by stem and the set of every stem found (valid or not), so that
    references to a broken file are not reported a second time as unknown.
    """
    folder = root / "schemas" / sub
    loaded: dict[str, Loaded[D]] = {}
    names: set[str] = set()
    paths = sorted(folder.glob("*.y*ml")) if folder.is_dir() else []
    for path in (p for p in paths if p.is_file() and p.suffix in (".yaml", ".yml")):
        file = relative(path, root)
        names.add(path.stem)
        item = _load_file(path, file, model, env, problems)
        if item is not None and _check_stem(path, file, sub, problems):
            loaded[path.stem] = item
    return loaded, names


def _load_file(path: Path, file: str, model: type[D], env: Mapping[str, str],
               problems: list[SpecProblem]) -> Loaded[D] | None:
    try:
        ydoc, more = load_yaml(path, file, dict(env), remember=True)
    except OSError as exc:
        problems.append(SpecProblem(file, 1, 1, f"cannot read the file: {exc.strerror}"))
        return None
    problems += more
    if ydoc is None:
        return None
    doc, more = validate(model, ydoc, explain_error)
    if ydoc.data is None:
        more = [SpecProblem(file, 1, 1, f"the file is empty: declare a {model.model_config['title']} "
                                        "(README.md, \"The project\", shows one; the JSON Schemas "
                                        "`reconciler init` writes to schemas/.schema/ let an "
                                        "editor complete it)")]
    problems += more
    return None if doc is None else Loaded(path.stem, file, doc, ydoc)


def _check_stem(path: Path, file: str, sub: str, problems: list[SpecProblem]) -> bool:
    """File names are logical names (`[a-z][a-z0-9_]*`) and end in `.yaml`."""
    ok = True
    if not LOGICAL_NAME.match(path.stem):
        suggestion = re.sub(r"[^a-z0-9_]+", "_", path.stem.lower()).strip("_") or "name"
        if not suggestion[0].isalpha():
            suggestion = f"db_{suggestion}" if sub == "notion" else f"v_{suggestion}"
        problems.append(SpecProblem(file, 1, 1, (
            f"file name {path.name!r} is not a valid logical name (lowercase letters, digits and _, "
            "starting with a letter; the name is used in addresses and references): "
            f"rename it, e.g. to {suggestion}.yaml")))
        ok = False
    if path.suffix != ".yaml":
        problems.append(SpecProblem(file, 1, 1, f"spec files end in .yaml: rename it to {path.stem}.yaml"))
        ok = False
    return ok
