"""Google Play parsing on documented payload shapes, the 7-day window trap, updated reviews."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.common.base import ParseError
from connectors.common.http.client import Page
from connectors.common.http.errors import SourceAuthError
from connectors.common.sandbox.server import start_sandbox
from connectors.google_play.connector import REVIEWS, SCOPE, GooglePlayConnector, LatestActivity
from connectors.google_play.sandbox import PACKAGE, WINDOW_S
from flows.runtime.config import SecretRef, SourceConfig

DAY = 86400
REVIEW = {
    "_endpoint": "reviews",
    "reviewId": "gp:AOqpTOExample0001",
    "authorName": "Ada Arden",
    "comments": [
        {
            "userComment": {
                "text": "Crashes\tThe app closes when I share a file.",
                "lastModified": {"seconds": "1767603600", "nanos": 250000000},
                "starRating": 2,
                "reviewerLanguage": "en",
                "device": "oriole",
                "androidOsVersion": 34,
                "appVersionCode": 5041,
                "appVersionName": "5.4.1",
                "thumbsUpCount": 3,
                "thumbsDownCount": 0,
            }
        },
        {
            "developerComment": {
                "text": "Sorry! Fixed in 5.4.2.",
                "lastModified": {"seconds": "1767690000", "nanos": 0},
            }
        },
    ],
}


def connector(**extra: Any) -> GooglePlayConnector:
    source = SourceConfig(name="play", type="google_play", package_name=PACKAGE, **extra)
    return GooglePlayConnector(source, http={"sleep": lambda s: None})


def with_user(**changes: Any) -> dict[str, Any]:
    user = {**REVIEW["comments"][0]["userComment"], **changes}
    return {**REVIEW, "comments": [{"userComment": user}, REVIEW["comments"][1]]}


def test_review_row_splits_title_and_keeps_rating_version_and_link():
    review, reply = connector().parse(REVIEW)
    assert review["source_id"] == review["thread_id"] == "gp:AOqpTOExample0001"
    assert (review["title"], review["text"]) == ("Crashes", "The app closes when I share a file.")
    assert (review["rating"], review["rating_raw"], review["rating_scale"]) == (0.25, 2.0, "1-5")
    assert review["app_version"] == "5.4.1" and review["customer_id"] == "Ada Arden"
    assert review["created_at"] == datetime(2026, 1, 5, 9, 0, 0, 250000, tzinfo=UTC)
    assert review["updated_at"] == review["created_at"]
    assert review["tags"] == ["language:en", "device:oriole", "android_sdk:34"]
    assert review["url"] == (
        f"https://play.google.com/store/apps/details?id={PACKAGE}&reviewId=gp%3AAOqpTOExample0001"
    )
    assert review["is_internal"] is False and review["source_kind"] == "review"


def test_developer_reply_is_an_internal_row_of_the_same_thread():
    _, reply = connector().parse(REVIEW)
    assert reply["source_id"] == "gp:AOqpTOExample0001:reply"
    assert reply["thread_id"] == "gp:AOqpTOExample0001"
    assert reply["is_internal"] is True and reply["rating"] is None
    assert reply["text"] == "Sorry! Fixed in 5.4.2." and reply["tags"] == ["developer_reply"]
    assert len(connector(developer_replies=False).parse(REVIEW)) == 1


def test_untitled_translated_review_without_version_name():
    user = {"text": "Bonne appli", "originalText": "Bonne appli", "appVersionName": None}
    (row, _) = connector().parse(with_user(**user))
    assert (row["title"], row["text"]) == (None, "Bonne appli")
    assert "translated" in row["tags"] and row["app_version"] == "5041"


def test_updated_review_keeps_its_source_id_with_a_later_updated_at():
    (before, _), (after, _) = (
        connector().parse(REVIEW),
        connector().parse(
            with_user(text="Fixed now", starRating=5, lastModified={"seconds": "1767800000"})
        ),
    )
    assert after["source_id"] == before["source_id"]
    assert after["updated_at"] > before["updated_at"] and after["rating"] == 1.0


@pytest.mark.parametrize(
    "item,message",
    [
        ({**REVIEW, "reviewId": None}, "reviewId is missing"),
        ({**REVIEW, "comments": None}, "comments is missing"),
        ({**REVIEW, "comments": [REVIEW["comments"][1]]}, "no userComment"),
        (with_user(lastModified=None), "lastModified is missing"),
        (with_user(lastModified={"seconds": "soon"}), "not a Timestamp"),
        (with_user(starRating=7), "outside its scale"),
        (with_user(text=["not", "text"]), "not text"),
    ],
)
def test_bad_reviews_raise_parse_errors(item, message):
    with pytest.raises(ParseError, match=message):
        connector().parse(item)


def page(*reviews: dict[str, Any]) -> Page:
    return Page(records=list(reviews), response=None, token=None)  # type: ignore[arg-type]


def test_cursor_is_the_latest_activity_and_an_edit_moves_a_review_past_it():
    inc = LatestActivity()
    cursor = inc.advance(None, page(REVIEW, with_user(lastModified={"seconds": "1767600000"})))
    assert cursor == {"seconds": 1767690000, "nanos": 0, "ids": ["gp:AOqpTOExample0001"]}
    assert not inc.is_new(cursor, REVIEW)  # same review, same latest activity
    assert inc.is_new(cursor, {**REVIEW, "reviewId": "other"})  # another review at the mark
    edited = with_user(lastModified={"seconds": "1767690000", "nanos": 1})
    edited["comments"] = edited["comments"][:1]
    assert inc.is_new(cursor, edited)  # the edit is a nanosecond later
    assert inc.is_new(cursor, {"reviewId": "x", "comments": []})  # unreadable: parsing decides


@pytest.fixture
def play(monkeypatch):
    with start_sandbox(vendors=("google_play",), page_size_cap=3) as sb:
        app = sb.vendor("google_play")
        monkeypatch.setenv("PLAY_SA", app.credentials["service_account"])
        yield sb, app


def live(sb: Any, now: float | None = None, **extra: Any) -> GooglePlayConnector:
    source = SourceConfig(
        name="play",
        type="google_play",
        base_url=sb.url("google_play"),
        credentials={"service_account": SecretRef(env="PLAY_SA")},
        package_name=PACKAGE,
        **extra,
    )
    http: dict[str, Any] = {"sleep": lambda s: None}
    if now is not None:
        http["wall_clock"] = lambda: now
    return GooglePlayConnector(source, http=http)


def ids(batches: list[Any]) -> list[str]:
    return [item["reviewId"] for batch in batches for item in batch.items]


def test_a_run_sees_only_the_last_week_and_an_edit_comes_back_as_the_same_review(play):
    sb, app = play
    first = list(live(sb).fetch({}))
    assert len(ids(first)) == len(app.store["reviews"]) - 1  # one review is 8 days old
    target = app.store["reviews"][3]["reviewId"]
    app.edit_review(target, "Works great after the update", 5)
    second = list(live(sb).fetch(first[-1].state))
    assert ids(second) == [target]
    (row, *_) = live(sb).parse(second[0].items[0])
    assert row["source_id"] == target and row["text"] == "Works great after the update"
    assert sb.requests_to("google_play", "token")  # the service account's token_uri is the sandbox


def test_a_cursor_older_than_the_week_warns_and_records_the_gap(play, caplog):
    sb, app = play
    state = {"endpoints": {REVIEWS.name: {"cursor": {"seconds": 1_000, "nanos": 0, "ids": []}}}}
    now = app.now()
    caplog.set_level(logging.WARNING, logger="chorus.connectors.google_play")
    batches = list(live(sb, now=now).fetch(state))
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "'play'" in warning.getMessage() and "last 7 days" in warning.getMessage()
    assert "1970-01-01T00:16:40Z" in warning.getMessage()
    gaps = batches[-1].state["gaps"]
    assert gaps == [
        {
            "endpoint": "reviews",
            "from": "1970-01-01T00:16:40Z",
            "to": datetime.fromtimestamp(now - WINDOW_S, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "detected_at": datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    caplog.clear()
    later = list(live(sb, now=now).fetch(batches[-1].state))  # the cursor is fresh again
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    assert later[-1].state["gaps"] == gaps  # the record of the gap is kept


def test_a_resumed_run_does_not_warn_twice_and_a_fresh_cursor_never_warns(play, caplog):
    sb, app = play
    caplog.set_level(logging.WARNING, logger="chorus.connectors.google_play")
    old = {"endpoints": {REVIEWS.name: {"cursor": {"seconds": 1_000, "nanos": 0, "ids": []}}}}
    first = next(iter(live(sb).fetch(old)))
    assert len(caplog.records) == 1 and "run" in first.state["endpoints"][REVIEWS.name]
    list(live(sb).fetch(first.state))  # the interrupted run, resumed
    assert len(caplog.records) == 1
    fresh = {"seconds": int(app.now() - 2 * DAY), "nanos": 0, "ids": []}
    list(live(sb).fetch({"endpoints": {REVIEWS.name: {"cursor": fresh}}}))
    assert len(caplog.records) == 1


def test_a_first_run_asking_for_more_than_a_week_warns(play, caplog):
    sb, _ = play
    caplog.set_level(logging.WARNING, logger="chorus.connectors.google_play")
    batches = list(live(sb, start_date="2020-01-01T00:00:00Z").fetch({}))
    assert (
        "start_date" in caplog.text
        and batches[-1].state["gaps"][0]["from"] == "2020-01-01T00:00:00Z"
    )


def test_a_key_that_is_not_service_account_json_names_the_credential(play, monkeypatch):
    sb, app = play
    monkeypatch.setenv("PLAY_SA", '{"type": "service_account", "private_key": "not a key"}')
    with pytest.raises(SourceAuthError, match="PLAY_SA") as failed:
        list(live(sb).fetch({}))
    assert "not a key" not in str(failed.value) and "client_email" in str(failed.value)
    monkeypatch.setenv("PLAY_SA", app.credentials["service_account"].replace("BEGIN", "BEGUN"))
    with pytest.raises(SourceAuthError, match="not a Google service-account JSON key"):
        list(live(sb).fetch({}))


def test_a_quiet_app_is_not_mistaken_for_a_gap(monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="chorus.connectors.google_play")
    with start_sandbox(data={"google_play": {"reviews": []}}, vendors=("google_play",)) as sb:
        monkeypatch.setenv("PLAY_SA", sb.vendor("google_play").credentials["service_account"])
        now = sb.vendor("google_play").now()
        state = list(live(sb, now=now).fetch({}))[-1].state
        assert state["endpoints"]["reviews"]["cursor"]["checked"] == int(now)
        for days in (3, 6):  # weekly-enough runs of an app nobody reviews
            state = list(live(sb, now=now + days * DAY).fetch(state))[-1].state
        assert not caplog.records and "gaps" not in state
        list(live(sb, now=now + 14 * DAY).fetch(state))  # a run skipped for 8 days
    assert "last 7 days" in caplog.text


def test_a_key_the_sandbox_does_not_trust_gets_googles_invalid_grant(play, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    sb, app = play
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = {**json.loads(app.credentials["service_account"]), "private_key": pem}
    monkeypatch.setenv("PLAY_SA", json.dumps(key))
    with pytest.raises(SourceAuthError, match="PLAY_SA") as failed:
        list(live(sb).fetch({}))
    assert failed.value.status == 400
    assert "invalid_grant" in str(failed.value) and "Invalid JWT Signature" in str(failed.value)
    assert not app.issued and not sb.requests_to("google_play", "androidpublisher")
    assert pem not in str(failed.value)


def test_the_sandbox_token_endpoint_checks_the_assertion_claims(play):
    import jwt

    sb, app = play
    key, aud = json.loads(app.credentials["service_account"]), f"{sb.url('google_play')}/token"
    now = int(time.time())
    good = {"iss": key["client_email"], "aud": aud, "scope": SCOPE, "iat": now, "exp": now + 3600}

    def problem(**claims: Any) -> str | None:
        signed = jwt.encode({**good, **claims}, key["private_key"], algorithm="RS256")
        found = app.assertion_problem(signed, aud)
        return found and found[0] + ": " + found[1]

    assert problem() is None
    assert "audience" in problem(aud="https://oauth2.googleapis.com/token")
    assert "account not found" in problem(iss="someone@else.example")
    assert "short-lived" in problem(exp=now + 7200)
    assert "short-lived" in problem(iat=now - 7200, exp=now - 3600)
    assert problem(scope="https://www.googleapis.com/auth/drive").startswith("invalid_scope")
