"""Apple contract cases: the reviews RSS feed, App Store Connect reviews, TestFlight feedback.

All three run against the one Apple sandbox. The feed only shows 10 pages per country, so a
full RSS run delivers the newest 10 pages' worth of each storefront, not every review stored.
"""

from __future__ import annotations

from typing import Any

from connectors.apple.sandbox import APP_ID, RSS_MAX_PAGES, RSS_PAGE
from tests.connectors.contract_cases import ContractCase

COUNTRIES = ["us", "gb", "ca", "de"]  # 25 reviews (beyond the depth limit), 4, a lone one, none
FEEDBACK_ENDPOINTS = {
    "screenshots": "beta_feedback_screenshots",
    "crashes": "beta_feedback_crashes",
}


def rss_expected(app: Any) -> list[str]:
    """Per country, the newest reviews the 10 feed pages still show."""
    size = min(RSS_PAGE, app.page_size_cap or RSS_PAGE)
    out = []
    for country in COUNTRIES:
        rows = [r for r in app.store["rss"] if r["_country"] == country]
        rows.sort(key=lambda r: (r["_epoch"], r["id"]["label"]), reverse=True)
        out += [
            f"customer_reviews:{country}:{r['id']['label']}" for r in rows[: size * RSS_MAX_PAGES]
        ]
    return out


def rss_item_key(item: dict[str, Any]) -> str:
    return f"{item['_endpoint']}:{item['id']['label']}"


def rss_mutate(app: Any) -> set[str]:
    """Two new reviews in the US storefront, one in the UK, one in a storefront that had none."""
    added = [app.add_rss_review("us", 2), app.add_rss_review("gb", 5), app.add_rss_review("us", 4)]
    added.append(app.add_rss_review("de", 3))
    return {f"customer_reviews:{r['_country']}:{r['id']['label']}" for r in added}


def connect_expected(app: Any) -> list[str]:
    return [f"customer_reviews:{r['id']}" for r in app.store["reviews"]]


def jsonapi_item_key(item: dict[str, Any]) -> str:
    return f"{item['_endpoint']}:{item['id']}"


def connect_mutate(app: Any) -> set[str]:
    """A review in the same second as the newest one (the cursor's boundary), and a later one."""
    newest = max(r["_epoch"] for r in app.store["reviews"])
    added = [app.add_review(1, "GBR", at=newest), app.add_review(5, "USA")]
    return {f"customer_reviews:{r['id']}" for r in added}


def testflight_expected(app: Any) -> list[str]:
    return [f"{FEEDBACK_ENDPOINTS[k]}:{r['id']}" for k in FEEDBACK_ENDPOINTS for r in app.store[k]]


def testflight_mutate(app: Any) -> set[str]:
    """A new screenshot submission and a new crash submission."""
    shot = app.add_feedback(
        "screenshots", "The export button overlaps the title.", build=1, tester=2
    )
    crash = app.add_feedback("crashes", "Crashed while uploading.", build=1, tester=1)
    return {f"beta_feedback_screenshots:{shot['id']}", f"beta_feedback_crashes:{crash['id']}"}


def _jwt_credentials(prefix: str) -> dict[str, str]:
    return {
        key: f"CONTRACT_{prefix}_{key.upper()}" for key in ("key_id", "issuer_id", "private_key")
    }


CASES: list[ContractCase] = [
    ContractCase(
        vendor="apple",
        connector_type="app_store_rss",
        credentials={"proxy_token": "CONTRACT_APPLE_RSS_PROXY_TOKEN"},
        auth_credential="proxy_token",
        expected=rss_expected,
        item_key=rss_item_key,
        mutate=rss_mutate,
        options={"app_id": APP_ID, "countries": COUNTRIES},
    ),
    ContractCase(
        vendor="apple",
        connector_type="app_store_connect",
        credentials=_jwt_credentials("ASC"),
        auth_credential="key_id",
        expected=connect_expected,
        item_key=jsonapi_item_key,
        mutate=connect_mutate,
        options={"app_id": APP_ID, "page_size": 2},
    ),
    ContractCase(
        vendor="apple",
        connector_type="testflight",
        credentials=_jwt_credentials("TESTFLIGHT"),
        auth_credential="key_id",
        expected=testflight_expected,
        item_key=jsonapi_item_key,
        mutate=testflight_mutate,
        options={"app_id": APP_ID, "page_size": 2, "internal_email_domains": ["chorus.example"]},
    ),
]
