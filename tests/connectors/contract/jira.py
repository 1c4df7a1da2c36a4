"""Contract case for Jira Cloud: BETA project issues (enhanced JQL search) and their comments."""

from __future__ import annotations

from typing import Any

from tests.connectors.contract_cases import ContractCase

PROJECT = "BETA"


def jira_expected(app: Any) -> list[str]:
    """Every BETA issue and every comment on one; OPS issues are outside the project filter."""
    issues = [i for i in app.store["issues"] if i["_project"] == PROJECT]
    ids = {i["id"] for i in issues}
    return [f"issues:{i['id']}" for i in issues] + [
        f"issue_comments:{c['_issue_id']}:{c['id']}"
        for c in app.store["comments"]
        if c["_issue_id"] in ids
    ]


def jira_item_key(item: dict[str, Any]) -> str:
    if item["_endpoint"] == "issue_comments":
        return f"issue_comments:{item['_parent']['issue_id']}:{item['id']}"
    return f"{item['_endpoint']}:{item['id']}"


def jira_mutate(app: Any) -> set[str]:
    """A new issue with comments, a comment and an edit on old ones, a relabel, an OPS issue."""
    beta = [i for i in app.store["issues"] if i["_project"] == PROJECT]
    old, relabelled, edited_on = beta[0], beta[1], beta[2]
    new = app.add_issue("Widget freezes on resume", None, labels=["beta"])
    comments = [
        app.add_comment(new["key"], "Same here on the latest build."),
        app.add_comment(new["key"], "Repro steps attached to the ticket.", internal=True),
        app.add_comment(old["key"], "Still happening after the update."),
    ]
    earlier = app.add_comment(edited_on["key"], "First impression: confusing.")
    app.update_issue(relabelled["key"], labels=["beta", "triaged"])
    app.add_issue("Ops-only chore", None, project="OPS")
    edited = app.edit_comment(earlier["id"], "First impression: confusing, fixed now.")
    touched = {new["id"], old["id"], relabelled["id"], edited_on["id"]}
    return {f"issues:{i}" for i in touched} | {
        f"issue_comments:{c['_issue_id']}:{c['id']}" for c in [*comments, edited]
    }


JIRA = ContractCase(
    vendor="jira",
    connector_type="jira",
    credentials={"email": "CONTRACT_JIRA_EMAIL", "api_token": "CONTRACT_JIRA_API_TOKEN"},
    auth_credential="api_token",
    expected=jira_expected,
    item_key=jira_item_key,
    mutate=jira_mutate,
    options={"project": PROJECT, "page_size": 2},
)

CASES: list[ContractCase] = [JIRA]
