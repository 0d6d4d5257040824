"""Checks that pydantic cannot make alone: names, references between files, relation back sides.

Every check takes valid documents (`Loaded`, with node positions) and returns located
`SpecProblem`s; none raises. Notion's rules are cited where they come from (NOTION-API.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.notion_docs import PROPERTY_OBJECT
from reconciler.errors import SpecProblem
from reconciler.project.config import Config
from reconciler.backends.notion.convert import rich_text_problem
from reconciler.project.documents import (
    MAX_NAME, DatabaseDoc, FormulaDoc, OptionDoc, OptionsBase, RelationDoc, RollupDoc,
    VocabularyDoc,
)
from reconciler.project.formula import referenced
from reconciler.project.formula_check import PROPERTY_TYPES, ROLLUP_TYPES, check_formula
from reconciler.project.resolve import BackReference, back_references, is_matching_back
from reconciler.project.yaml import Loaded

Databases = Mapping[str, Loaded[DatabaseDoc]]


def check_vocabulary(item: Loaded[VocabularyDoc]) -> list[SpecProblem]:
    """A vocabulary has at least one option, unique ignoring case (NOTION-API.md §3.4)."""
    if not item.doc.options:
        return [item.problem(("options",), f"vocabulary {item.name!r} has no options: "
                                           "list at least one under options:")]
    return check_options(item, ("options",), item.doc.options)


def check_options(item: Loaded, loc: tuple, options: Iterable[OptionDoc]) -> list[SpecProblem]:
    """Option names are unique ignoring case (NOTION-API.md §3.4)."""
    seen: dict[str, str] = {}
    problems = []
    for i, option in enumerate(options):
        key = option.name.casefold()
        if key in seen:
            problems.append(item.problem(loc + (i,), (
                f"option {option.name!r} repeats {seen[key]!r} (Notion compares option names "
                f"ignoring case, {PROPERTY_OBJECT}): remove one")))
        seen.setdefault(key, option.name)
    return problems


def check_databases(dbs: Databases, db_names: set[str], vocab_names: set[str],
                    config: Config) -> list[SpecProblem]:
    """Every per-database and cross-database check.

    `db_names` / `vocab_names` are the stems of every file found, valid or not, so a reference
    to a broken file is not reported twice.
    """
    refs = back_references({k: v.doc for k, v in dbs.items()})
    problems: list[SpecProblem] = []
    for item in dbs.values():
        problems += check_title_property(item)
        problems += check_property_names(item)
        problems += check_renames(item)
        problems += check_property_settings(item, dbs, db_names, vocab_names, refs)
        problems += check_texts(item)
        problems += check_formulas(item, refs)
    problems += check_unique_titles(dbs, config)
    problems += check_back_references(dbs, refs)
    return problems


def check_title_property(item: Loaded[DatabaseDoc]) -> list[SpecProblem]:
    """Exactly one `title` property per database (NOTION-API.md §3.2)."""
    titles = [n for n, p in item.doc.properties.items() if p.type == "title"]  # type: ignore[attr-defined]
    if not titles:
        return [item.problem(("properties",), (
            "the database has no title property: add exactly one, e.g. Name: {type: title} "
            f"({PROPERTY_OBJECT})"))]
    return [item.problem(("properties", name), (
        f"{name!r} is a second title property ({titles[0]!r} is the title): a database has "
        f"exactly one ({PROPERTY_OBJECT}); change its type")) for name in titles[1:]]


def check_property_names(item: Loaded[DatabaseDoc]) -> list[SpecProblem]:
    """Property names: not empty, at most 100 characters, unique ignoring case."""
    problems, seen = [], {}
    for name in item.doc.properties:
        loc = ("properties", name)
        if not name.strip():
            problems.append(item.problem(loc, "property name is empty: give the property a name"))
        elif len(name) > MAX_NAME:
            problems.append(item.problem(loc, (
                f"property name is {len(name)} characters long: use at most {MAX_NAME}")))
        if name.casefold() in seen:
            problems.append(item.problem(loc, (
                f"property {name!r} repeats {seen[name.casefold()]!r} (names are compared "
                "ignoring case): rename or remove one")))
        seen.setdefault(name.casefold(), name)
    return problems


def check_renames(item: Loaded[DatabaseDoc]) -> list[SpecProblem]:
    """`renamed_from` names no current property, and each former name belongs to one property."""
    current = {n.casefold() for n in item.doc.properties}
    owner: dict[str, str] = {}
    problems = []
    for name, prop in item.doc.properties.items():
        for i, old in enumerate(prop.renamed_from):
            loc = ("properties", name, "renamed_from", i)
            if old.casefold() in current:
                problems.append(item.problem(loc, (
                    f"renamed_from {old!r} names a current property of this database: remove it "
                    "from renamed_from (keep only former names)")))
            elif old.casefold() in owner:
                problems.append(item.problem(loc, (
                    f"former name {old!r} is already listed in renamed_from of "
                    f"{owner[old.casefold()]!r}: keep it on one property only")))
            owner.setdefault(old.casefold(), name)
    return problems


def check_property_settings(item: Loaded[DatabaseDoc], dbs: Databases, db_names: set[str],
                            vocab_names: set[str], refs: list[BackReference]) -> list[SpecProblem]:
    """Options/vocabulary, related databases and rollup references of each property."""
    problems = []
    for name, prop in item.doc.properties.items():
        loc = ("properties", name)
        if isinstance(prop, OptionsBase):
            problems += _check_select(item, loc, prop, vocab_names)
        elif isinstance(prop, RelationDoc):
            problems += _check_relation(item, loc, prop, db_names)
        elif isinstance(prop, RollupDoc):
            problems += _check_rollup(item, loc, prop, dbs, refs)
    return problems


def _check_select(item: Loaded, loc: tuple, prop: OptionsBase, vocab_names: set[str]) -> list[SpecProblem]:
    if prop.vocabulary is not None and prop.options is not None:
        return [item.problem(loc + ("vocabulary",), (
            "options and vocabulary are both given: keep one (vocabulary for a shared list, "
            "options for this property only)"))]
    if prop.vocabulary is not None and prop.vocabulary not in vocab_names:
        return [item.problem(loc + ("vocabulary",), (
            f"unknown vocabulary {prop.vocabulary!r}: create schemas/vocab/{prop.vocabulary}.yaml"
            f" or use one of: {_listing(vocab_names)}"))]
    return check_options(item, loc + ("options",), prop.options or ())


def _check_relation(item: Loaded, loc: tuple, prop: RelationDoc, db_names: set[str]) -> list[SpecProblem]:
    problems = []
    if prop.database not in db_names:
        problems.append(item.problem(loc + ("database",), (
            f"relation to {prop.database!r}, which is not a declared database: use one of "
            f"{_listing(db_names)} (the file stems in schemas/notion/)")))
    if prop.synced_property is not None and not prop.two_way:
        problems.append(item.problem(loc + ("synced_property",), (
            "synced_property only applies to two-way relations: add two_way: true or remove it")))
    return problems


def _check_rollup(item: Loaded, loc: tuple, prop: RollupDoc, dbs: Databases,
                  refs: list[BackReference]) -> list[SpecProblem]:
    related = _related_database(item, prop.relation, refs)
    if related is None:
        relations = [n for n, p in item.doc.properties.items() if isinstance(p, RelationDoc)]
        relations += [r.name for r in refs if r.related == item.name]
        return [item.problem(loc + ("relation",), (
            f"rollup relation {prop.relation!r} is not a relation property of this database: "
            f"use one of {_listing(relations)}"))]
    if related not in dbs:
        return []  # the related database is undeclared or broken: reported where it is declared
    names = list(dbs[related].doc.properties) + [r.name for r in refs if r.related == related]
    if prop.property not in names:
        return [item.problem(loc + ("property",), (
            f"rollup property {prop.property!r} does not exist in {related!r} "
            f"({dbs[related].file}): use one of {_listing(names)}"))]
    return []


def _related_database(item: Loaded[DatabaseDoc], name: str, refs: list[BackReference]
                      ) -> str | None:
    """The database a relation property of `item` (declared or created as a back side) points to."""
    prop = item.doc.properties.get(name)
    if isinstance(prop, RelationDoc):
        return prop.database
    back = next((r for r in refs if r.related == item.name and r.name == name), None)
    return back.source if back and prop is None else None


def check_texts(item: Loaded[DatabaseDoc]) -> list[SpecProblem]:
    """The title and description fit one rich text array (100 objects of 2000 characters,
    NOTION-API.md §4.2), and a two-way relation's synced_property is a property name (≤ 100)."""
    problems = [item.problem((key,), f"{key}: {problem}")
                for key, text in (("title", item.doc.title), ("description", item.doc.description))
                if text and (problem := rich_text_problem(text))]
    for name, prop in item.doc.properties.items():
        synced = getattr(prop, "synced_property", None) or ""
        if len(synced) > MAX_NAME:
            problems.append(item.problem(("properties", name, "synced_property"), (
                f"synced_property is {len(synced)} characters long: a property name has at most "
                f"{MAX_NAME}")))
    return problems


def check_formulas(item: Loaded[DatabaseDoc], refs: list[BackReference]) -> list[SpecProblem]:
    """Every formula's syntax, the properties it names, its functions and types
    (`project.formula_check`), located at the character inside `expression`. A formula's type
    is what `prop()` of it gives other formulas; formulas referring to each other in a circle
    are refused (Notion cannot compute them)."""
    props = item.doc.properties
    formulas = {n: p.expression for n, p in props.items() if isinstance(p, FormulaDoc)}
    if not formulas:
        return []
    types = {n: _formula_type(p) for n, p in props.items() if n not in formulas}
    types |= {r.name: "list[page]" for r in refs if r.related == item.name and r.name not in props}
    resolved: dict[str, str] = {}
    problems: list[SpecProblem] = []

    def resolve(name: str, path: tuple[str, ...]) -> None:
        for other, index in referenced(formulas[name]):
            if other in path or other == name:
                circle = " → ".join(path[path.index(other):] + (name, other)) \
                    if other in path else f"{name} → {name}"
                problems.append(_at_char(item, name, index, f"formulas refer to each other in a "
                                                            f"circle ({circle}): break the circle"))
            elif other in formulas and other not in resolved:
                resolve(other, path + (name,))
        result, found = check_formula(formulas[name], {**types, **{
            f: resolved.get(f, "any") for f in formulas}})
        resolved[name] = result
        problems.extend(_at_char(item, name, p.index, f"formula: {p.message}") for p in found)

    for name in formulas:
        if name not in resolved:
            resolve(name, ())
    return problems


def _formula_type(prop) -> str:
    if isinstance(prop, RollupDoc):
        return ROLLUP_TYPES.get(prop.function, "any")
    return PROPERTY_TYPES.get(prop.type, "any")


def _at_char(item: Loaded[DatabaseDoc], name: str, index: int, message: str) -> SpecProblem:
    line, col = item.yaml.locate_in_value(("properties", name, "expression"), index)
    return SpecProblem(item.file, line, col, message)


def check_unique_titles(dbs: Databases, config: Config) -> list[SpecProblem]:
    """Two databases under the same parent page may not share a title (ignoring case)."""
    seen: dict[tuple[str, str], Loaded] = {}
    problems = []
    for item in dbs.values():
        parent = (item.doc.parent or "").strip() or config.notion.parent_page_id or ""
        key = (parent, item.doc.title.strip().casefold())
        if key in seen:
            problems.append(item.problem(("title",), (
                f"title {item.doc.title!r} is already used by {seen[key].file} under the same "
                "parent page: give each database its own title")))
        seen.setdefault(key, item)
    return problems


def check_back_references(dbs: Databases, refs: list[BackReference]) -> list[SpecProblem]:
    """The property a two-way relation creates on its related database collides with nothing
    there."""
    problems, created = [], {}
    for ref in refs:
        source = dbs[ref.source]
        src_prop = source.doc.properties[ref.source_property]
        at = ("properties", ref.source_property,
              "synced_property" if src_prop.synced_property else "two_way")  # type: ignore[attr-defined]
        message = _collision(ref, dbs[ref.related], created)
        if message:
            problems.append(source.problem(at, message))
        created.setdefault((ref.related, ref.name.casefold()), ref)
    return problems


def _collision(ref: BackReference, related: Loaded[DatabaseDoc],
               created: dict[tuple[str, str], BackReference]) -> str | None:
    if (ref.related, ref.source_property) == (ref.source, ref.name):
        return ("a two-way relation to its own database needs a synced_property other than its "
                "own name: set synced_property")
    other = created.get((ref.related, ref.name.casefold()))
    if other is not None:
        return (f"this two-way relation and {other.source}.{other.source_property} both create "
                f"the property {ref.name!r} on {ref.related!r}: set a different synced_property")
    declared = next((n for n in related.doc.properties
                     if n.casefold() == ref.name.casefold()), None)
    if declared is None or (declared == ref.name
                            and is_matching_back(related.doc.properties[declared], ref)):
        return None
    kind = related.doc.properties[declared].type  # type: ignore[attr-defined]
    return (f"the two-way relation creates the property {ref.name!r} on {ref.related!r}, which "
            f"already declares {declared!r} ({kind}) in {related.file}: set another "
            f"synced_property, or declare {declared!r} there as {{type: relation, database: "
            f"{ref.source}, two_way: true, synced_property: {ref.source_property}}}")


def _listing(names: Iterable[str]) -> str:
    names = sorted(set(names))
    return ", ".join(names) if names else "(none declared)"
