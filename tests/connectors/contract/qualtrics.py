"""Qualtrics contract case: one export delivers every response; the next continues from its token."""

from __future__ import annotations

from typing import Any

from tests.connectors.contract_cases import ContractCase


def qualtrics_expected(app: Any) -> list[str]:
    """Every recorded response."""
    return [f"responses:{r['responseId']}" for r in app.store["responses"]]


def qualtrics_item_key(item: dict[str, Any]) -> str:
    return f"{item['_endpoint']}:{item['responseId']}"


def qualtrics_mutate(app: Any) -> set[str]:
    """Two new responses, one of them a survey preview."""
    new = [app.add_response(3), app.add_response(4, status=1)]
    return {f"responses:{r['responseId']}" for r in new}


CASES: list[ContractCase] = [
    ContractCase(
        vendor="qualtrics",
        connector_type="qualtrics",
        credentials={"api_token": "CONTRACT_QUALTRICS_TOKEN"},
        auth_credential="api_token",
        expected=qualtrics_expected,
        item_key=qualtrics_item_key,
        mutate=qualtrics_mutate,
        options={
            "page_size": 2,
            "survey_id": "SV_9uDsandbox1A",
            "rating_question": "QID2",
            "account_field": "account_id",
            "poll_interval_s": 0,
        },
    )
]
