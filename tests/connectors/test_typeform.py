"""Typeform parsing on documented payload shapes, and the inclusive-`since` trap on the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connectors.common.base import ParseError
from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import start_sandbox
from connectors.typeform.connector import TypeformConnector, form_summary
from flows.runtime.config import SecretRef, SourceConfig

DEFINITION = {
    "id": "lT4Z3j",
    "title": "Feedback",
    "hidden": ["account_id", "user_id"],
    "fields": [
        {"id": "f_nps", "ref": "nps", "title": "Recommend us?", "type": "nps", "properties": {}},
        {"id": "f_os", "ref": "os", "title": "Likely (0-10)?", "type": "opinion_scale",
         "properties": {"steps": 11, "start_at_one": False}},
        {"id": "f_csat", "ref": "csat", "title": "Satisfied?", "type": "opinion_scale",
         "properties": {"steps": 5, "start_at_one": True}},
        {"id": "f_stars", "ref": "stars", "title": "Stars", "type": "rating",
         "properties": {"steps": 10, "shape": "star"}},
        {"id": "f_long", "ref": "better", "title": "What could be better?", "type": "long_text"},
        {"id": "g", "ref": "grp", "title": "More", "type": "group", "properties": {"fields": [
            {"id": "f_short", "ref": "else", "title": "Anything else?", "type": "short_text"},
            {"id": "f_mc", "ref": "features", "title": "Features?", "type": "multiple_choice"},
            {"id": "f_dd", "ref": "plan", "title": "Plan?", "type": "dropdown"},
            {"id": "f_yn", "ref": "renew", "title": "Renew?", "type": "yes_no"},
        ]}},
    ],
}  # fmt: skip


def connector(**extra: Any) -> TypeformConnector:
    options = {"form_id": "lT4Z3j", **extra}
    return TypeformConnector(SourceConfig(name="tf", type="typeform", **options))


def answer(fid: str, ftype: str, kind: str, value: Any) -> dict[str, Any]:
    return {"field": {"id": fid, "type": ftype, "ref": fid}, "type": kind, kind: value}


def response(*answers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "_endpoint": "responses",
        "_form": form_summary(DEFINITION),
        "landing_id": "21085286190ffad1248d17c4135ee56f",
        "token": "21085286190ffad1248d17c4135ee56f",
        "response_id": "21085286190ffad1248d17c4135ee56f",
        "landed_at": "2017-09-14T22:33:59Z",
        "submitted_at": "2017-09-14T22:38:22Z",
        "metadata": {"platform": "other", "browser": "default"},
        "hidden": {"account_id": "acct-7", "user_id": "u-42"},
        "answers": list(answers),
        **extra,
    }


def test_nps_rating_text_and_choices_map_to_one_row():
    item = response(
        answer("f_nps", "nps", "number", 9),
        answer("f_csat", "opinion_scale", "number", 4),
        answer("f_long", "long_text", "text", "Exports are slow."),
        answer("f_mc", "multiple_choice", "choices", {"labels": ["Exports", "API"]}),
        answer("f_dd", "dropdown", "text", "Pro"),
        answer("f_yn", "yes_no", "boolean", True),
        answer("f_email", "email", "email", "lee@example.com"),
    )
    (row,) = connector(account_hidden_field="account_id", customer_hidden_field="user_id").parse(
        item
    )
    assert row["source_id"] == "21085286190ffad1248d17c4135ee56f"
    assert row["nps"] == 9
    assert (row["rating"], row["rating_raw"], row["rating_scale"]) == (0.75, 4.0, "1-5")
    assert row["text"] == "Exports are slow." and row["title"] == "What could be better?"
    assert row["tags"] == ["Exports", "API", "Pro", "renew:yes"]
    assert (row["account_id"], row["customer_id"]) == ("acct-7", "u-42")
    assert row["created_at"].isoformat() == "2017-09-14T22:38:22+00:00"
    assert "lee@example.com" not in str(row)


def test_several_open_answers_are_joined_with_their_titles():
    item = response(
        answer("f_long", "long_text", "text", "Faster exports."),
        answer("f_short", "short_text", "text", "Love the app"),
    )
    (row,) = connector().parse(item)
    assert row["text"] == "What could be better?: Faster exports.\n\nAnything else?: Love the app"
    assert row["title"] is None
    assert row["account_id"] is None  # hidden fields only mapped when configured


def test_opinion_scale_0_to_10_is_nps_and_rating_uses_its_steps():
    (row,) = connector().parse(
        response(
            answer("f_os", "opinion_scale", "number", 3), answer("f_stars", "rating", "number", 10)
        )
    )
    assert row["nps"] == 3
    assert (row["rating"], row["rating_scale"]) == (1.0, "1-10")


def test_out_of_scale_score_and_missing_time_are_parse_errors():
    with pytest.raises(ParseError, match="outside its scale"):
        connector().parse(response(answer("f_csat", "opinion_scale", "number", 9)))
    with pytest.raises(ParseError, match="submitted_at"):
        connector().parse(response(submitted_at=None))


def test_choice_other_text_becomes_text():
    item = response(answer("f_mc", "multiple_choice", "choice", {"label": None, "other": "Slack"}))
    (row,) = connector().parse(item)
    assert row["text"] == "Slack" and row["tags"] == []


def _run(sb: Any, monkeypatch: pytest.MonkeyPatch, state: dict[str, Any]) -> list[Any]:
    monkeypatch.setenv("TF_TOKEN", sb.vendor("typeform").credentials["access_token"])
    source = SourceConfig(
        name="tf", type="typeform", base_url=sb.url("typeform"),
        credentials={"access_token": SecretRef(env="TF_TOKEN")}, form_id="fbKq9Zx1", page_size=3,
    )  # fmt: skip
    return list(TypeformConnector(source, http={"sleep": lambda s: None}).fetch(state))


def test_inclusive_since_repeats_nothing_at_the_boundary_but_keeps_new_ties(monkeypatch):
    with start_sandbox(vendors=("typeform",)) as sb:
        app = sb.vendor("typeform")
        first = _run(sb, monkeypatch, {})
        state = first[-1].state
        boundary = state["endpoints"]["responses"]["cursor"]
        assert len(boundary["ids"]) == 2  # two fixture responses share the newest second
        again = _run(sb, monkeypatch, state)
        served = requests.get(
            f"{sb.url('typeform')}/forms/fbKq9Zx1/responses",
            params={"since": fx.iso(int(boundary["value"]))[:-1]},
            headers={"Authorization": f"Bearer {app.credentials['access_token']}"},
            timeout=5,
        ).json()["items"]
        assert {r["token"] for r in served} == set(boundary["ids"])  # `since` is inclusive
        assert [i for b in again for i in b.items] == []  # ... and we drop what we had
        tie = app.add_response(1, at=int(boundary["value"]))
        third = _run(sb, monkeypatch, state)
    assert [i["token"] for b in third for i in b.items] == [tie["token"]]
    assert all("_form" in i for b in first for i in b.items)
