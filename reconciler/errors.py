"""One error tree for everything a user can cause or meet.

Only `reconciler.cli` turns these into messages and exit codes; nothing here prints.
Messages never contain tokens or connection-string passwords.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ReconcilerError(Exception):
    """Root of every error the reconciler raises on purpose (exit code 1 in the CLI)."""


@dataclass(frozen=True)
class SpecProblem:
    """One problem in a spec file: `file:line:col: message` (line and column are 1-based)."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class SpecError(ReconcilerError):
    """The project's YAML is invalid. Carries every problem found, sorted by file and line."""

    def __init__(self, problems: list[SpecProblem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.col, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(ReconcilerError):
    """`reconciler.yaml`, the environment or the command line asks for something impossible."""


class ReadError(ReconcilerError):
    """Live state could not be read (a Notion or Postgres error while planning)."""


class PlanError(ReconcilerError):
    """A plan cannot be built, loaded or applied as asked."""


class BrokenReferenceError(PlanError):
    """Row changes that would break a foreign key (`backends.postgres.references`)."""


class PlanFileError(PlanError):
    """A saved plan file is unreadable, of an unknown format version, or was edited by hand."""


#: Addresses named in one refusal; the rest are counted.
SHOWN_ADDRESSES = 10


def _some(addresses: list[str]) -> str:
    shown = ", ".join(addresses[:SHOWN_ADDRESSES])
    more = len(addresses) - SHOWN_ADDRESSES
    return shown + (f" and {more} more" if more > 0 else "")


class StalePlanError(PlanError):
    """Live state changed since the plan was made; `changed` lists the resources (addresses)."""

    def __init__(self, changed: list[str]):
        self.changed = changed
        super().__init__(
            f"Saved plan is stale: these resources changed since it was made: {_some(changed)}. "
            "Run `reconciler plan` again and review the new plan."
        )


class SensitiveValueError(PlanError):
    """Sensitive values the plan would write changed at their source since it was made: their
    keyed digests are not the plan's (`changed`: `address: field` of each)."""

    def __init__(self, changed: list[str]):
        self.changed = changed
        super().__init__(
            f"Sensitive values changed since the plan was made: {_some(changed)}. The plan holds "
            "their digests, not the values, so apply reads each one again from its source and "
            "writes it only if it is the value reviewed. Run `reconciler plan` again and review "
            "the new plan.")


class DigestKeyError(PlanError):
    """The plan's sensitive values were sealed under another digest key (`planned`: the key id
    the plan records, `here`: this project's), so none of them can be checked."""

    def __init__(self, planned: str | None, here: str):
        self.planned, self.here = planned, here
        super().__init__(
            f"The plan was made with another digest key ({planned or 'none'}; the key here is "
            f"{here}), so its sensitive values cannot be checked. Apply it where the key it was "
            "made with is set (RECONCILER_DIGEST_KEY, or .reconciler/digest.key of the machine "
            "that made it), or run `reconciler plan` here.")


class IdentityMismatchError(PlanError):
    """The plan was made for another workspace or database: the identity of `root` (`notion`:
    the Notion workspace and bot; `supabase`: the Postgres database) was `planned` and is `live`
    now (identities as `backends.base.Live.identity` gives them)."""

    def __init__(self, root: str, planned: dict[str, str], live: dict[str, str]):
        self.root, self.planned, self.live = root, planned, live
        says = lambda ids: ", ".join(f"{k} {v}" for k, v in sorted(ids.items())) or "unknown"  # noqa
        super().__init__(
            f"The plan was made for another workspace or database: {root} was {says(planned)} "
            f"when it was planned, and is {says(live)} now. Apply it where it was made, or run "
            "`reconciler plan` here.")


class AlreadyAppliedError(PlanError):
    """This very plan was applied already (`at`: when that apply ended; `run`: its id in the
    journal, `where`: the journal's path)."""

    def __init__(self, at: str, run: str, where: str):
        self.at, self.run = at, run
        super().__init__(
            f"The plan was already applied, at {at} (run {run} in {where}). Run "
            "`reconciler plan` for what is left to do.")


class UnsafePlanError(PlanError):
    """The plan holds destructive changes and `--allow-destroy` was not given."""

    def __init__(self, addresses: list[str]):
        self.addresses = addresses
        super().__init__(
            f"The plan holds destructive changes: {_some(addresses)}. Review them and run "
            "apply again with --allow-destroy to make them."
        )


class CircuitBreakerError(PlanError):
    """A sync would change or delete more of a table's rows than its circuit breaker allows, and
    `--force` was not given; `messages` says which tables and how many rows."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("The circuit breaker stopped the sync:\n  " + "\n  ".join(messages))


class ApplyError(ReconcilerError):
    """A change failed during apply: `address` failed with `reason`.

    Raised by a backend with what it knows (`applied`: changes it made in that step group);
    the apply runner raises it again with the whole apply's account (`account`: what was applied,
    deferred and skipped, what failed, what was not attempted, and how to finish), so the
    message says exactly what was done and what was not.
    """

    def __init__(self, reason: str, *, address: str, applied: int = 0,
                 account: str | None = None):
        self.reason = reason
        self.applied = applied
        self.address = address
        self.account = account
        super().__init__(f"{address}: {reason}" + (f"\n{account}" if account else ""))


class LockError(ReconcilerError):
    """Another apply holds the project lock."""


def relative(path: Path, root: Path) -> str:
    """`path` relative to `root` when inside it, else absolute: the form used in messages."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
