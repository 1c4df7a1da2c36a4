"""Typeform contract case: every response once; the next run delivers only new ones."""

from __future__ import annotations

from typing import Any

from connectors.common.sandbox import fixtures as fx
from tests.connectors.contract_cases import ContractCase


def typeform_expected(app: Any) -> list[str]:
    """Every response to the form."""
    return [f"responses:{r['token']}" for r in app.store["responses"]]


def typeform_item_key(item: dict[str, Any]) -> str:
    return f"{item['_endpoint']}:{item['token']}"


def typeform_mutate(app: Any) -> set[str]:
    """A response in the same second as the newest one (inclusive `since`), and a later one."""
    newest = max(app.store["responses"], key=lambda r: (r["submitted_at"], r["_seq"]))
    tie = app.add_response(3, at=fx.epoch(newest["submitted_at"]))
    later = app.add_response(4)
    return {f"responses:{tie['token']}", f"responses:{later['token']}"}


CASES: list[ContractCase] = [
    ContractCase(
        vendor="typeform",
        connector_type="typeform",
        credentials={"access_token": "CONTRACT_TYPEFORM_TOKEN"},
        auth_credential="access_token",
        expected=typeform_expected,
        item_key=typeform_item_key,
        mutate=typeform_mutate,
        options={
            "page_size": 2,
            "form_id": "fbKq9Zx1",
            "account_hidden_field": "account_id",
            "customer_hidden_field": "user_id",
        },
    )
]
