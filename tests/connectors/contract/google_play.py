"""Contract case for Google Play reviews against connectors/google_play/sandbox.py."""

from __future__ import annotations

from typing import Any

from connectors.google_play.sandbox import PACKAGE, WINDOW_S, review_activity
from tests.connectors.contract_cases import ContractCase


def expected(app: Any) -> list[str]:
    """Every review the 7-day window still holds."""
    since = (int(app.now() - WINDOW_S), 0)
    return [f"reviews:{r['reviewId']}" for r in app.store["reviews"] if review_activity(r) >= since]


def item_key(item: dict[str, Any]) -> str:
    return f"{item['_endpoint']}:{item['reviewId']}"


def mutate(app: Any) -> set[str]:
    """A new review, an edited one, a developer reply to a third."""
    live = app.store["reviews"][:11]
    new = app.add_review("Sync\tThe new sync is much faster, thank you.", 5, author="Lena Brook")
    edited = app.edit_review(live[2]["reviewId"], "Dark theme arrived, love it!", 5)
    replied = app.reply(live[4]["reviewId"], "Thanks, we are on it.")
    return {f"reviews:{r['reviewId']}" for r in (new, edited, replied)}


CASES: list[ContractCase] = [
    ContractCase(
        vendor="google_play",
        connector_type="google_play",
        credentials={"service_account": "CONTRACT_GOOGLE_PLAY_SERVICE_ACCOUNT"},
        auth_credential="service_account",
        expected=expected,
        item_key=item_key,
        mutate=mutate,
        options={"package_name": PACKAGE, "page_size": 2},
    )
]
