"""`reconciler init`: a new project's files (DESIGN.md "The user's project").

`scaffold(root)` writes `reconciler.yaml` (only `${VAR}` references, no secrets), the spec
folders `schemas/{notion,supabase,vocab}/` and `plans/` (each with a `.gitkeep` so git keeps
it), the JSON Schemas for editors (`schemas/.schema/`), `.env.example`, the GitHub Actions
workflow `.github/workflows/reconciler.yml`, and the `.gitignore` lines for `.reconciler/` and
`.env`. It never overwrites: when any file it would write exists, it writes nothing and says
which (a `.gitignore` that exists only gets the lines it lacks).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from reconciler.errors import ConfigError

CONFIG = """\
# yaml-language-server: $schema=schemas/.schema/reconciler.schema.json
# Connections and defaults of this project. No secrets here: NOTION_TOKEN and DATABASE_URL come
# from the environment or .env (see .env.example).
# project_id names this project in every clone: applies of clones that share it lock each other
# out on a database. Keep it committed; a copy that becomes another project needs a new one.
project_id: @PROJECT_ID@
notion:
  # The page new databases are created in; empty: the local Notion's root page.
  parent_page_id: "${NOTION_PARENT_PAGE_ID:-}"
  rate_limit: 3          # requests per second (Notion allows about 3)
supabase: {}
"""
#: Lines a project's .gitignore needs: local state and secrets stay out of git.
GITIGNORE = (".reconciler/", ".env")
KEEP = ("schemas/notion/.gitkeep", "schemas/supabase/.gitkeep", "schemas/vocab/.gitkeep",
        "plans/.gitkeep")
WORKFLOW = ".github/workflows/reconciler.yml"


def package_file(name: str) -> str:
    """A file shipped in this package (`reconciler/scaffold/<name>`), as text."""
    return (resources.files("reconciler.scaffold") / name).read_text(encoding="utf-8")


def install_source() -> str:
    """What CI should `pip install` to get the reconciler running now, read from the installed
    distribution's `direct_url.json` (PEP 610): `git+<url>@<commit>` for an install from a
    repository, the archive's URL for one from an http(s) URL; `""` otherwise (an editable or
    local-folder install, or one from a package index: the name `reconciler` on PyPI is another
    project, so `reconciler==<version>` could install someone else's code). The workflow refuses
    to run with `""` and says what to set."""
    import json
    from importlib import metadata

    try:
        text = metadata.distribution("reconciler").read_text("direct_url.json")
        found = json.loads(text) if text else {}
    except (metadata.PackageNotFoundError, ValueError):
        return ""
    url = _without_userinfo(found.get("url", "") if isinstance(found, dict) else "")
    vcs = found.get("vcs_info") if isinstance(found, dict) else None
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and url.startswith(("https://", "ssh://")):
        commit = vcs.get("commit_id") or vcs.get("requested_revision")
        return f"git+{url}" + (f"@{commit}" if commit else "")
    if url.startswith("https://") and "archive_info" in found:
        return url
    return ""


def _without_userinfo(url: str) -> str:
    """`url` without `user:password@` (PEP 610 allows credentials there; the workflow is
    committed), unless it is an environment reference such as `${{ secrets.X }}`/`${X}`."""
    from urllib.parse import urlsplit, urlunsplit

    if not isinstance(url, str) or "://" not in url:
        return ""
    parts = urlsplit(url)
    if "@" not in parts.netloc or parts.netloc.split("@", 1)[0].startswith("$"):
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def workflow_text(install: str | None = None) -> str:
    """The GitHub Actions workflow; `install` is what its jobs `pip install` (default:
    `install_source()`, which may be `""`: the jobs then stop and say to set it)."""
    return package_file("reconciler.yml").replace(
        "@RECONCILER_INSTALL@", install_source() if install is None else install)


def planned_files() -> dict[str, str]:
    """Relative path → text of every file `scaffold` writes (the JSON Schemas aside); the
    config carries a new `project_id` (a uuid4) each call."""
    import uuid

    config = CONFIG.replace("@PROJECT_ID@", str(uuid.uuid4()))
    files = {"reconciler.yaml": config, ".env.example": package_file("env.example"),
             WORKFLOW: workflow_text()}
    files.update({path: "" for path in KEEP})
    return files


def scaffold(root: Path) -> list[str]:
    """Write a new project in `root` (created if missing). Returns the paths written, relative
    to `root`. Raises `ConfigError`, writing nothing, when one of them exists or `root` is a
    file; `ConfigError` too when the folder cannot be written."""
    from reconciler.project.jsonschema import SCHEMA_FILES, write_schemas

    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} is a file: give init a folder (new or existing)")
    files = planned_files()
    schemas = [f"schemas/.schema/{name}" for name in SCHEMA_FILES]
    exists = [rel for rel in [*files, *schemas] if (root / rel).exists()]
    if exists:
        raise ConfigError(f"{root} already holds {', '.join(exists)}: init writes a new project "
                          "and never overwrites; run it in an empty folder (or remove them)")
    try:
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        write_schemas(root / "schemas" / ".schema")
        written = [*files, *schemas]
        if _add_gitignore(root / ".gitignore"):
            written.append(".gitignore")
    except OSError as exc:
        raise ConfigError(f"cannot write the project in {root}: {exc.strerror} "
                          f"({exc.filename})") from None
    return written


def _add_gitignore(path: Path) -> bool:
    """Append the lines of `GITIGNORE` that `path` lacks; True when it changed."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    have = {line.strip() for line in text.splitlines()}
    missing = [line for line in GITIGNORE if line not in have and line.rstrip("/") not in have]
    if not missing:
        return False
    lead = "" if not text or text.endswith("\n") else "\n"
    header = "# reconciler: local state and secrets\n"
    path.write_text(text + lead + header + "".join(f"{line}\n" for line in missing),
                    encoding="utf-8")
    return True
