"""SurveyMonkey contract case: every response once; the next run delivers new and edited ones."""

from __future__ import annotations

from typing import Any

from connectors.common.sandbox import fixtures as fx
from tests.connectors.contract_cases import ContractCase


def surveymonkey_expected(app: Any) -> list[str]:
    """Every response to the survey."""
    return [f"responses:{r['id']}" for r in app.store["responses"]]


def surveymonkey_item_key(item: dict[str, Any]) -> str:
    return f"{item['_endpoint']}:{item['id']}"


def surveymonkey_mutate(app: Any) -> set[str]:
    """A response in the newest second (inclusive filter), an edited old one, a new one."""
    newest = max(app.store["responses"], key=lambda r: r["date_modified"])
    tie = app.add_response(4, at=fx.epoch(newest["date_modified"]))
    edited = app.edit_response(app.store["responses"][0]["id"], "Edited again: still slow.")
    new = app.add_response(5)
    return {f"responses:{r['id']}" for r in (tie, edited, new)}


CASES: list[ContractCase] = [
    ContractCase(
        vendor="surveymonkey",
        connector_type="surveymonkey",
        credentials={"access_token": "CONTRACT_SURVEYMONKEY_TOKEN"},
        auth_credential="access_token",
        expected=surveymonkey_expected,
        item_key=surveymonkey_item_key,
        mutate=surveymonkey_mutate,
        options={
            "page_size": 2,
            "survey_id": "412345678",
            "account_variable": "account",
            "customer_variable": "user",
        },
    )
]
