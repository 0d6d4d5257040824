"""The digest key: the secret that plans' digests of personal data are keyed with.

Plans hold `hmac-sha256:` digests of sensitive values (`model.sensitive`), never the values; the
key must stay out of the repository, or anyone reading the plan could digest guesses and compare.
Where it comes from, first found wins:

1. `RECONCILER_DIGEST_KEY` in the environment (or `.env`): what CI uses, as a repository
   secret shared by the job that makes the plan and the job that applies it. At least
   `MIN_KEY_CHARS` characters, e.g. `python -c "import secrets; print(secrets.token_hex(32))"`.
2. `.reconciler/digest.key` (git-ignored, like the rest of `.reconciler/`): made on first use
   on a developer's machine (32 random bytes, hex, file mode 0600).

In CI (`CI=true`, as GitHub Actions and most CI services set it) no file is made: a key made
there would die with the job, and the plan could never be applied elsewhere; the command stops
and says to set the secret. A plan made with one key and applied with another is refused
before anything is written ("made with another digest key"), since none of its digests could
be checked.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from reconciler.errors import ConfigError

ENV_VAR = "RECONCILER_DIGEST_KEY"
#: Where a developer's key lives, relative to the project root.
KEY_FILE = Path(".reconciler") / "digest.key"
#: Shortest key accepted from the environment, in characters.
MIN_KEY_CHARS = 16


def in_ci(env: Mapping[str, str]) -> bool:
    """Whether this runs in CI: `CI` is `true` or `1` (GitHub Actions sets `CI=true`; GitLab,
    CircleCI, Travis and Buildkite do too)."""
    return env.get("CI", "").strip().lower() in ("true", "1")


#: Set to 1 to run on the embedded backends in CI on purpose.
ALLOW_EMBEDDED = "RECONCILER_EMBEDDED"


def refuse_embedded_in_ci(env: Mapping[str, str], variable: str, backend: str) -> None:
    """Raise `ConfigError` when this runs in CI (`in_ci`) and `variable` (`NOTION_TOKEN`,
    `DATABASE_URL`) is unset or empty, so the command would fall back on the embedded `backend`
    on the runner and change nothing real: an unset or misspelt secret, or a pull request from
    a fork (GitHub gives those no secrets), must fail, not apply to a throwaway copy.
    `RECONCILER_EMBEDDED=1` allows it."""
    if in_ci(env) and env.get(ALLOW_EMBEDDED, "").strip() not in ("1", "true"):
        raise ConfigError(
            f"{variable} is not set (or empty) and this runs in CI (CI=true): the reconciler would "
            f"use the embedded {backend} on this runner and change nothing real. Set the "
            f"{variable} secret (pull requests from forks get no secrets), or set "
            f"{ALLOW_EMBEDDED}=1 to use the embedded {backend} on purpose.")


def load_digest_key(root: Path, env: Mapping[str, str]) -> bytes:
    """The project's digest key (see the module docstring), made on first use outside CI.

    Raises `ConfigError` for a key in the environment shorter than `MIN_KEY_CHARS`, for an
    unreadable key file, and in CI when neither is there."""
    given = (env.get(ENV_VAR) or "").strip()
    if given:
        if len(given) < MIN_KEY_CHARS:
            raise ConfigError(f"{ENV_VAR} is {len(given)} characters long: use at least "
                              f"{MIN_KEY_CHARS} random ones, e.g. the output of `python -c "
                              "\"import secrets; print(secrets.token_hex(32))\"`")
        return given.encode()
    path = root / KEY_FILE
    try:
        text = path.read_text(encoding="utf-8").strip() if path.is_file() else ""
    except OSError as exc:
        raise ConfigError(f"{KEY_FILE}: cannot read the digest key ({exc.strerror})") from None
    if text:
        return text.encode()
    if in_ci(env):
        raise ConfigError(
            f"this project has sensitive values and no digest key: set the repository secret "
            f"{ENV_VAR} (e.g. `python -c \"import secrets; print(secrets.token_hex(32))\"`) and "
            "pass it to reconciler in the workflow (env:), so the job that applies a plan has "
            "the key it was made with (README: Sensitive values)")
    return _make(path)


def _make(path: Path) -> bytes:
    """Write a new random key to `path` (mode 0600, never replacing one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile: use theirs
        return path.read_text(encoding="utf-8").strip().encode()
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key + "\n")
    return key.encode()
