"""Apple parsing on documented payload shapes, plus the feed's traps against the live sandbox."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
import requests

from connectors.apple.connect import AppStoreConnectReviewsConnector, with_included
from connectors.apple.connect import TestFlightConnector as FlightConnector
from connectors.apple.rss import (
    FEED_ERRORS,
    MAX_PAGES,
    AppStoreRssConnector,
    FeedPagePaginator,
    feed_entries,
    last_page,
)
from connectors.apple.sandbox import APP_ID
from connectors.common.base import ParseError
from connectors.common.http.client import HttpClient
from connectors.common.http.errors import SourceAuthError
from connectors.common.http.paginators import PageNumberPaginator
from connectors.common.sandbox.server import start_sandbox
from flows.runtime.config import SecretRef, SourceConfig

FAST = {"sleep": lambda s: None, "timeout": (2.0, 2.0)}
JWT_KEYS = ("key_id", "issuer_id", "private_key")

# -- documented shapes ------------------------------------------------------------------------

ENTRY = {
    "author": {
        "uri": {"label": "https://itunes.apple.com/us/reviews/id987654321"},
        "name": {"label": "sunny_day"},
        "label": "",
    },
    "updated": {"label": "2024-03-01T10:22:33-07:00"},
    "im:rating": {"label": "4"},
    "im:version": {"label": "3.2.1"},
    "id": {"label": "10987654321"},
    "title": {"label": "Nice, but slow"},
    "content": {"label": "Syncing takes a minute.", "attributes": {"type": "text"}},
    "link": {"attributes": {"rel": "related", "href": "https://itunes.apple.com/us/review?id=1"}},
    "im:voteSum": {"label": "0"},
    "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
    "im:voteCount": {"label": "0"},
}
APP_ENTRY = {"im:name": {"label": "Example"}, "id": {"label": "https://apps.apple.com/app/id1"}}
REVIEW = {  # Apple's example for GET /v1/apps/{id}/customerReviews
    "_endpoint": "customer_reviews",
    "type": "customerReviews",
    "id": "00000028-b08c-0014-729e-fbd500000000",
    "attributes": {
        "rating": 5,
        "title": "Awesome!!!",
        "body": "It's a really fantastic app!",
        "reviewerNickname": "Anne Johnson",
        "createdDate": "2017-11-15T08:10:34-08:00",
        "territory": "USA",
    },
    "links": {"self": "https://api.appstoreconnect.apple.com/v1/customerReviews/00000028"},
}
SCREENSHOT_PAGE = {
    "data": [
        {
            "type": "betaFeedbackScreenshotSubmissions",
            "id": "AJq1b2",
            "attributes": {
                "createdDate": "2025-05-02T12:00:00-07:00",
                "comment": "The share sheet is empty.",
                "email": "tester@qa.example",
                "deviceModel": "iPhone15_2",
                "osVersion": "18.4.1",
                "appPlatform": "IOS",
                "devicePlatform": "IOS",
                "deviceFamily": "IPHONE",
                "buildBundleId": "com.example.app",
                "screenshots": [{"url": "https://img.example/1.png", "width": 10, "height": 20}],
            },
            "relationships": {
                "build": {"data": {"type": "builds", "id": "b-1"}},
                "tester": {"data": {"type": "betaTesters", "id": "t-1"}},
            },
            "links": {"self": "https://api.appstoreconnect.apple.com/v1/x/AJq1b2"},
        }
    ],
    "included": [
        {"type": "builds", "id": "b-1", "attributes": {"version": "417"}},
        {"type": "betaTesters", "id": "t-1", "attributes": {"email": "tester@qa.example"}},
    ],
    "links": {"self": "https://api.appstoreconnect.apple.com/v1/apps/1/x"},
}


def source(kind: str, **extra: Any) -> SourceConfig:
    return SourceConfig(name="apple_src", type=kind, app_id=APP_ID, **extra)


def test_rss_review_becomes_a_row_with_stars_version_and_reviewer():
    connector = AppStoreRssConnector(source("app_store_rss"))
    [row] = connector.parse({**ENTRY, "_endpoint": "customer_reviews:us"})
    assert (row["rating"], row["rating_raw"], row["rating_scale"]) == (0.75, 4.0, "1-5")
    assert row["app_version"] == "3.2.1"
    assert row["customer_id"] == "987654321"  # the reviewer's profile id, steadier than a nickname
    assert row["created_at"] == datetime(2024, 3, 1, 17, 22, 33, tzinfo=UTC)
    assert (row["source_id"], row["title"], row["text"]) == (
        "10987654321",
        "Nice, but slow",
        "Syncing takes a minute.",
    )
    assert row["tags"] == ["country:us"] and row["url"].endswith("review?id=1")
    assert row["source_kind"] == "review"


def test_rss_reviewer_without_profile_link_is_named_by_nickname():
    connector = AppStoreRssConnector(source("app_store_rss"))
    entry = {
        **ENTRY,
        "author": {"name": {"label": "sunny_day"}},
        "_endpoint": "customer_reviews:gb",
    }
    assert connector.parse(entry)[0]["customer_id"] == "sunny_day"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"im:rating": None}, "im:rating is missing"),
        ({"im:rating": {"label": "6"}}, "outside its scale"),
        ({"id": None}, "id.label is missing"),
        ({"updated": {"label": "yesterday"}}, "updated"),
        ({"_endpoint": "reviews"}, "customer_reviews:<country>"),
    ],
)
def test_rss_bad_entries_are_parse_errors(change, message):
    connector = AppStoreRssConnector(source("app_store_rss"))
    entry = {**ENTRY, "_endpoint": "customer_reviews:us", **change}
    with pytest.raises(ParseError, match=message):
        connector.parse({k: v for k, v in entry.items() if v is not None})


def test_feed_entries_handle_a_lone_entry_no_entry_and_the_app_entry():
    assert feed_entries({"feed": {"entry": ENTRY}}) == [ENTRY]  # one review: an object
    assert feed_entries({"feed": {"entry": [APP_ENTRY, ENTRY]}}) == [ENTRY]
    assert feed_entries({"feed": {"author": {}}}) == []  # no reviews: no entry key
    assert feed_entries({"errors": [{"status": "404"}]}) == [] and feed_entries(None) == []


def test_last_page_comes_from_the_rel_last_link():
    href = "https://itunes.apple.com/us/rss/customerreviews/page=7/id=1/sortby=mostrecent/xml?x"
    links = [
        {"attributes": {"rel": "first", "href": "x"}},
        {"attributes": {"rel": "last", "href": href}},
    ]
    assert last_page({"feed": {"link": links}}) == 7
    assert last_page({"feed": {}}) is None


def test_connect_review_becomes_a_row():
    connector = AppStoreConnectReviewsConnector(source("app_store_connect"))
    [row] = connector.parse(REVIEW)
    assert (row["rating"], row["rating_raw"], row["rating_scale"]) == (1.0, 5.0, "1-5")
    assert row["customer_id"] == "Anne Johnson" and row["title"] == "Awesome!!!"
    assert row["created_at"] == datetime(2017, 11, 15, 16, 10, 34, tzinfo=UTC)
    assert row["tags"] == ["territory:USA"] and row["url"] == REVIEW["links"]["self"]
    bad = {**REVIEW, "attributes": {**REVIEW["attributes"], "rating": None}}
    with pytest.raises(ParseError, match="rating is missing"):
        connector.parse(bad)


def test_testflight_feedback_keeps_build_device_and_tester():
    connector = FlightConnector(source("testflight", internal_email_domains=["qa.example"]))
    [item] = with_included(SCREENSHOT_PAGE)
    [row] = connector.parse({**item, "_endpoint": "beta_feedback_screenshots"})
    assert row["source_kind"] == "beta" and row["text"] == "The share sheet is empty."
    assert (row["app_version"], row["thread_id"]) == ("417", "b-1")
    assert row["customer_id"] == "tester@qa.example" and row["is_internal"] is True
    assert row["tags"] == [
        "testflight:screenshot",
        "device:iPhone15_2",
        "os:18.4.1",
        "platform:IOS",
        "build:417",
    ]
    crash = {**item, "attributes": {**item["attributes"], "comment": None, "email": None}}
    [row] = connector.parse({**crash, "_endpoint": "beta_feedback_crashes"})
    assert row["source_id"] == "crash:AJq1b2" and row["text"] == ""
    assert row["customer_id"] == "tester@qa.example"  # from the included tester
    assert row["is_internal"] is True


def test_testflight_without_included_resources_still_parses():
    [item] = with_included({"data": SCREENSHOT_PAGE["data"]})
    assert item["_build"] is None and item["_tester"] is None
    row = FlightConnector(source("testflight")).parse(
        {**item, "_endpoint": "beta_feedback_crashes"}
    )
    assert row[0]["app_version"] is None and row[0]["is_internal"] is False


# -- auth -------------------------------------------------------------------------------------


def jwt_source(monkeypatch, creds: dict[str, str], kind: str = "app_store_connect", **extra):
    refs = {}
    for key, value in creds.items():
        monkeypatch.setenv(f"APPLE_T_{key.upper()}", value)
        refs[key] = SecretRef(env=f"APPLE_T_{key.upper()}")
    return source(kind, credentials=refs, **extra)


def test_private_key_that_is_not_a_p8_key_names_the_credential(monkeypatch):
    from connectors.apple.sandbox import AppleSandbox

    creds = {**AppleSandbox.default_credentials, "private_key": "not a key"}
    connector = AppStoreConnectReviewsConnector(jwt_source(monkeypatch, creds))
    with pytest.raises(SourceAuthError, match="APPLE_T_PRIVATE_KEY.*AuthKey"):
        connector.auth()


def test_escaped_newlines_in_the_key_and_individual_keys_without_issuer(monkeypatch):
    from connectors.apple.sandbox import AppleSandbox

    pem = AppleSandbox.default_credentials["private_key"].replace("\n", "\\n")
    creds = {"key_id": "KEY123", "private_key": pem}
    auth, name = AppStoreConnectReviewsConnector(jwt_source(monkeypatch, creds)).auth()
    token = auth.token()
    assert jwt.get_unverified_header(token)["kid"] == "KEY123"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "user" and "iss" not in claims
    assert claims["aud"] == "appstoreconnect-v1" and claims["exp"] - claims["iat"] <= 1200
    assert "APPLE_T_KEY_ID" in name


# -- traps, against the sandbox ---------------------------------------------------------------


def rss_run(sb, state=None, **extra) -> tuple[AppStoreRssConnector, list]:
    url = sb.url("apple")
    connector = AppStoreRssConnector(source("app_store_rss", base_url=url, **extra), http=FAST)
    return connector, list(connector.fetch(state or {}))


def items(batches) -> list[dict[str, Any]]:
    return [i for b in batches for i in b.items]


def test_page_depth_limit_stops_at_page_10_and_warns_of_a_gap(caplog):
    with start_sandbox(vendors=("apple",), page_size_cap=2) as sb:
        app = sb.vendor("apple")
        _, first = rss_run(sb, countries=["us"])
        pages = [p for p in sb.requests_to("apple") if p.startswith("us/")]
        assert len(pages) == MAX_PAGES and "page=11" not in " ".join(pages)
        assert (
            len(items(first))
            == 2 * MAX_PAGES
            < len([r for r in app.store["rss"] if r["_country"] == "us"])
        )
        for _ in range(2 * MAX_PAGES + 3):  # more new reviews than 10 pages show
            app.add_rss_review("us", 3)
        caplog.set_level(logging.INFO, logger="chorus.connectors.apple")
        _, second = rss_run(sb, first[-1].state, countries=["us"])
    assert len(items(second)) == 2 * MAX_PAGES
    gap = [r for r in caplog.records if r.levelno == logging.WARNING and "gap" in r.message]
    assert len(gap) == 1 and "country us" in gap[0].message


def test_next_run_stops_at_the_first_page_holding_seen_reviews(caplog):
    with start_sandbox(vendors=("apple",), page_size_cap=2) as sb:
        app = sb.vendor("apple")
        _, first = rss_run(sb, countries=["us", "gb"])
        new = app.add_rss_review("us", 1)
        caplog.set_level(logging.INFO, logger="chorus.connectors.apple")
        before = len(sb.log)
        _, second = rss_run(sb, first[-1].state, countries=["us", "gb"])
        asked = [p for _, p, _ in sb.log[before:]]
    assert [i["id"]["label"] for i in items(second)] == [new["id"]["label"]]
    # Paging stops at the first page holding a review older than the cursor: page 2 in the
    # US (page 1 ends at the cursor's own second, which a same-second review could share).
    assert [p.split("/sortby")[0] for p in asked] == [
        f"us/rss/customerreviews/page=1/id={APP_ID}",
        f"us/rss/customerreviews/page=2/id={APP_ID}",
        f"gb/rss/customerreviews/page=1/id={APP_ID}",
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_error_answers_beyond_the_feed_are_empty_pages_not_crashes():
    with start_sandbox(vendors=("apple",)) as sb, HttpClient("rss", sb.url("apple")) as client:
        path = f"us/rss/customerreviews/page={{page}}/id={APP_ID}/sortby=mostrecent/json"
        pages = list(
            client.paginate(
                path, PageNumberPaginator(start=11), records=feed_entries, errors=FEED_ERRORS
            )
        )
        assert [p.records for p in pages] == [[]] and pages[0].response.status_code == 400
        gone = list(
            client.paginate(
                path.replace(APP_ID, "999"),
                PageNumberPaginator(),
                records=feed_entries,
                errors=FEED_ERRORS,
            )
        )
        assert [p.records for p in gone] == [[]]


def test_a_broken_page_before_the_last_is_skipped(caplog):
    with start_sandbox(vendors=("apple",), page_size_cap=2) as sb:
        sb.vendor("apple").holes.add(("gb", 1))
        sb.vendor("apple").holes.add(("us", 3))
        caplog.set_level(logging.WARNING, logger="chorus.http")
        _, batches = rss_run(sb, countries=["us", "gb"])
        asked = sb.requests_to("apple")
    assert sum(p.startswith("us/") for p in asked) == MAX_PAGES  # paging went on after page 3
    got = [i["_endpoint"] for i in items(batches)]
    assert got.count("customer_reviews:us") == 2 * (MAX_PAGES - 1)
    assert got.count("customer_reviews:gb") == 0  # page 1 broken: nothing known, nothing kept
    assert any("not JSON" in r.message for r in caplog.records)


def test_start_date_bounds_the_first_run_of_a_newest_first_list(monkeypatch):
    with start_sandbox(vendors=("apple",), page_size_cap=2) as sb:
        app = sb.vendor("apple")
        creds = jwt_source(monkeypatch, app.credentials).credentials
        times = sorted((r["_epoch"] for r in app.store["reviews"]), reverse=True)
        start = datetime.fromtimestamp(times[2], tz=UTC)
        src = source(
            "app_store_connect", base_url=sb.url("apple"), credentials=creds, start_date=start
        )
        got = items(AppStoreConnectReviewsConnector(src, http=FAST).fetch({}))
        asked = sb.requests_to("apple")
    assert len(got) == 3 and len(asked) == 2  # page 2 reaches older reviews: no page 3


def test_countries_option_is_checked():
    errors = AppStoreRssConnector.option_errors(source("app_store_rss", countries=["US"]))
    assert errors and errors[0].startswith("countries.0")


def test_a_review_in_the_cursors_own_second_arrives_even_on_the_next_page(monkeypatch):
    with start_sandbox(vendors=("apple",), page_size_cap=2) as sb:
        app = sb.vendor("apple")
        src = source(
            "app_store_connect",
            base_url=sb.url("apple"),
            credentials=jwt_source(monkeypatch, app.credentials).credentials,
        )
        connector = AppStoreConnectReviewsConnector(src, http=FAST)
        first = list(connector.fetch({}))
        newest = max(app.store["reviews"], key=lambda r: r["_epoch"])
        tie = app.add_review(2, "USA", at=newest["_epoch"])
        tie["id"] = "00000000-0000-0000-0000-000000000001"  # sorts after the seen one: page 2
        later = app.add_review(4, "USA")
        got = [i["id"] for i in items(connector.fetch(first[-1].state))]
    assert sorted(got) == sorted([tie["id"], later["id"]])


def _response(body: bytes, status: int = 200) -> requests.Response:
    response = requests.Response()
    response.status_code, response._content = status, body
    response.url = (
        "https://itunes.apple.com/us/rss/customerreviews/page=1/id=1/sortby=mostrecent/json"
    )
    return response


def test_feed_paginator_never_passes_page_10_even_without_a_last_link():
    paginator = FeedPagePaginator()
    first = paginator.first_request({})
    assert first == {"page": 1}
    page = _response(json.dumps({"feed": {"entry": [ENTRY, ENTRY]}}).encode())
    assert paginator.next_request(page, [ENTRY], {"page": 9}) == {"page": 10}
    assert paginator.next_request(page, [ENTRY], {"page": 10}) is None
    assert paginator.next_request(_response(b""), [], {"page": 3}) is None  # no last page known


def test_feed_paginator_skips_a_hole_when_the_last_page_is_known_and_resumes_knowing_it():
    href = "https://itunes.apple.com/us/rss/customerreviews/page=6/id=1/sortby=mostrecent/xml"
    links = [{"attributes": {"rel": "last", "href": href}}]
    paginator = FeedPagePaginator()
    paginator.first_request({})
    body = json.dumps({"feed": {"entry": [ENTRY], "link": links}}).encode()
    assert paginator.next_request(_response(body), [ENTRY], {"page": 1}) == {"page": 2}
    assert paginator.next_request(_response(b"", 400), [], {"page": 2}) == {"page": 3}
    resumed = FeedPagePaginator()
    assert resumed.resume(paginator.token()) == {"page": 3} and resumed.last == 6
    assert resumed.next_request(_response(body), [ENTRY], {"page": 6}) is None
