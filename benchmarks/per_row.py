"""Per-row work done once (issue 15 point 4), counted and timed side by side:

- `content_hash` calls per row in a converged plan of N rows on the local Notion (each desired
  row hashed once, each live row's digest once at read: 2 per row in all, 1 per row and side);
- YAML parses per YAML text read when the bundled example loads (spec files, vocabularies,
  YAML manifests and front matter): 1;
- the content snapshot of N rows written as it is (`save_snapshot`, no indent) beside the same
  data written with `indent=2` (which makes `json` use its pure-Python encoder).

    python benchmarks/per_row.py [N]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from projects import converged_notion_project, environment
from saved_plan import NO_TARGETS

REPO = Path(__file__).resolve().parents[1]


def _patch_everywhere(name: str, original, replacement) -> list:
    """Replace `original` by `replacement` in every loaded reconciler module that holds it
    under `name`; returns the modules patched (to put back)."""
    patched = [m for m in list(sys.modules.values()) if getattr(m, "__name__", "").startswith(
        "reconciler") and getattr(m, name, None) is original]
    for module in patched:
        setattr(module, name, replacement)
    return patched


def hashes_per_row(n: int) -> dict[str, float]:
    """`content_hash` calls of a converged plan of `n` rows, per (desired + live) row."""
    import reconciler.model.content as content
    from reconciler.backends.notion import rows as _rows  # noqa: F401  (load the users of it)
    from reconciler.project.loader import load_project
    from reconciler.session import Session

    with tempfile.TemporaryDirectory() as tmp, environment(**NO_TARGETS):
        root = Path(tmp)
        converged_notion_project(root, n)
        count = [0]
        original = content.content_hash

        def counting(*args, **kwargs):
            count[0] += 1
            return original(*args, **kwargs)

        patched = _patch_everywhere("content_hash", original, counting)
        try:
            start = time.perf_counter()
            with Session(load_project(root, {}), {}) as session:
                plan = session.plan()
            seconds = time.perf_counter() - start
        finally:
            for module in patched:
                module.content_hash = original
    assert not plan.has_changes
    return {"calls": count[0], "rows": 2 * n, "ratio": count[0] / (2 * n), "plan_s": seconds}


def yaml_parses() -> dict[str, float]:
    """`safe_yaml.load_text` calls per distinct YAML text while the bundled example loads."""
    from reconciler import safe_yaml
    from reconciler.project.loader import load_project

    texts: Counter[str] = Counter()
    original = safe_yaml.load_text

    def counting(yaml, text):
        texts[text] += 1
        return original(yaml, text)

    patched = _patch_everywhere("load_text", original, counting)
    try:
        load_project(REPO, {})
    finally:
        for module in patched:
            module.load_text = original
    calls = sum(texts.values())
    return {"calls": calls, "texts": len(texts), "ratio": calls / max(len(texts), 1)}


def snapshot(n: int) -> dict[str, float]:
    """Seconds to write the snapshot of `n` rows as `save_snapshot` does, and with indent=2."""
    from reconciler.backends.notion.rows import save_snapshot, snapshot_path
    from reconciler.model.content import LiveRow

    rows = {f"row-{i:06d}": LiveRow(f"row-{i:06d}", f"{i:08x}-0000-4000-8000-000000000000",
                                    {"Hash": f"sha256:{i:064x}"}, stamp="2026-01-01T00:00:00.000Z",
                                    digest=f"sha256:{i + 1:064x}") for i in range(n)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        best, indented = float("inf"), float("inf")
        for _ in range(3):
            start = time.perf_counter()
            save_snapshot(root, "notion.bench", rows, "Hash")
            best = min(best, time.perf_counter() - start)
            data = json.loads(snapshot_path(root, "notion.bench").read_text())
            start = time.perf_counter()
            (root / "indented.json").write_text(json.dumps(data, sort_keys=True, indent=2) + "\n")
            indented = min(indented, time.perf_counter() - start)
    return {"seconds": best, "indented_s": indented, "ratio": best / indented}


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    got = hashes_per_row(n)
    print(f"content_hash: {got['calls']} calls for {n} desired + {n} live rows = "
          f"{got['ratio']:.2f} per row and side (goal 1)")
    got = yaml_parses()
    print(f"YAML: {got['calls']} parses of {got['texts']} texts = {got['ratio']:.2f} (goal 1)")
    got = snapshot(n)
    print(f"snapshot of {n} rows: {got['seconds'] * 1000:.1f} ms; with indent=2 "
          f"{got['indented_s'] * 1000:.1f} ms; ratio {got['ratio']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
