"""People by e-mail end to end: the bundled Learning Points carry an `Owner` people property fed
by `**Owner**: <e-mail>` lines; the plan resolves e-mails to user ids with one `users.list`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from reconciler.local import local_client
from tests.applied_example import AppliedExample
from tests.e2e.test_content import calls, pages, run  # noqa: F401 (fixture)


def _owners(root: Path) -> dict[str, list[str]]:
    users = {u["id"]: u["person"]["email"]
             for u in local_client(root / ".reconciler" / "notion").users.list()["results"]
             if u["type"] == "person"}
    return {p["properties"]["Key"]["title"][0]["plain_text"]:
            [users[u["id"]] for u in p["properties"]["Owner"]["people"]]
            for p in pages(root, "learning_points")}


def test_people_by_email_converge_with_one_users_list_per_plan(
        applied_example: AppliedExample, applied_project: Path, calls: Counter):
    """The run's one plan and apply of the fresh example (`applied_example`) wrote the owners;
    a changed owner is then planned with one users list, applied, and the plan is empty."""
    root = applied_project
    doc = json.loads(run(root, "show", str(applied_example.plan), "--format", "json").output)
    creates = [c for c in doc["changes"]
               if c["address"].startswith("notion.learning_points.page")]
    owned = [c["after"] for c in creates if "Owner" in c["after"]["values"]]
    # people are personal data by default: the plan holds a keyed digest of the user ids the
    # e-mails resolve to, never the e-mails (what apply writes is checked below)
    assert owned and all(a["sealed"] and "Owner" in a["sensitive"] and
                         a["values"]["Owner"].startswith("hmac-sha256:") for a in owned)
    assert "example.com" not in json.dumps(owned)
    owners = _owners(root)
    assert owners["LP-070"] == ["ada@example.com"]
    assert owners["LP-072"] == ["linus@example.com"]
    points = root / "content" / "learning" / "learning-points.md"
    points.write_text(points.read_text().replace("**Owner**: linus@example.com",
                                                 "**Owner**: ada@example.com", 1))
    calls.clear()
    run(root, "plan", "--detailed-exitcode", code=2)
    assert calls["GET /v1/users"] == 1
    run(root, "apply", "--auto-approve")
    assert _owners(root)["LP-072"] == ["ada@example.com"]
    calls.clear()
    run(root, "plan", "--detailed-exitcode", code=0)
    assert calls["GET /v1/users"] == 1


def test_an_email_no_member_has_is_a_plan_error_naming_it_the_key_and_the_file(
        example_project: Path):
    root = example_project
    doc = root / "content" / "learning" / "learning-points.md"
    doc.write_text(doc.read_text().replace("**Owner**: grace@example.com",
                                           "**Owner**: nobody@example.com", 1))
    result = run(root, "plan", code=1)
    # the e-mail is personal data (people are sensitive by default): the message names the
    # row, the file and the line, and masks the value
    assert "nobody@example.com" not in result.output and "(sensitive)" in result.output
    assert "LP-071" in result.output and "learning-points.md:15" in result.output
    assert "Traceback" not in result.output


def test_no_users_list_without_a_people_field(example_project: Path, calls: Counter):
    root = example_project
    spec = root / "schemas" / "notion" / "learning_points.yaml"
    text = spec.read_text()
    spec.write_text(text.replace("        Owner: '^\\*\\*Owner\\*\\*: (.+)$'\n", ""))
    run(root, "plan", code=0)
    assert calls["GET /v1/users"] == 0
