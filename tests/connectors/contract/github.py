"""Contract case for GitHub: a repository's issues and issue comments, pull requests left out."""

from __future__ import annotations

from typing import Any

from tests.connectors.contract_cases import ContractCase


def _is_pr(app: Any, number: int) -> bool:
    return "pull_request" in app.issue(number)


def _number(comment: dict[str, Any]) -> int:
    return int(comment["issue_url"].rsplit("/", 1)[1])


def github_expected(app: Any) -> list[str]:
    """Every issue that is not a pull request, and every comment on one."""
    return [f"issues:{i['id']}" for i in app.store["issues"] if "pull_request" not in i] + [
        f"issue_comments:{c['id']}" for c in app.store["comments"] if not _is_pr(app, _number(c))
    ]


def github_item_key(item: dict[str, Any]) -> str:
    return f"{item['_endpoint']}:{item['id']}"


def github_mutate(app: Any) -> set[str]:
    """A new issue with a reply, a comment on an old issue, an edit, a close, PR activity."""
    issues = [i for i in app.store["issues"] if "pull_request" not in i]
    prs = [i for i in app.store["issues"] if "pull_request" in i]
    old, closed = issues[0], issues[1]
    first = next(c for c in app.store["comments"] if not _is_pr(app, _number(c)))
    new = app.add_issue("Crash on login with beta 2.3", "Steps: open the app, tap login.")
    comments = [
        app.add_comment(new["number"], "Same on Android 14.", "cleo-tester2"),
        app.add_comment(old["number"], "Fixed in the next build.", "octo-maint", "MEMBER"),
    ]
    app.add_comment(prs[0]["number"], "LGTM", "octo-maint", "MEMBER")
    app.add_issue("Bump the SDK", "Routine upgrade.", login="release-bot", pull_request=True)
    edited = app.edit_comment(first["id"], "Edited: it happens every morning.")
    app.update_issue(closed["number"], state="closed", state_reason="completed")
    return {f"issues:{i['id']}" for i in (new, old, closed)} | {
        f"issue_comments:{c['id']}" for c in (*comments, edited)
    }


GITHUB = ContractCase(
    vendor="github",
    connector_type="github",
    credentials={"token": "CONTRACT_GITHUB_TOKEN"},
    auth_credential="token",
    expected=github_expected,
    item_key=github_item_key,
    mutate=github_mutate,
    options={"repository": "chorus-example/beta-app", "page_size": 2},
)

CASES: list[ContractCase] = [GITHUB]
