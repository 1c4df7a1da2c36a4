"""Qualtrics parsing of export-file responses, and the export flow against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.common.base import ParseError
from connectors.common.http.errors import SourceAuthError
from connectors.common.sandbox.server import start_sandbox
from connectors.qualtrics.connector import QualtricsConnector
from connectors.qualtrics.sandbox import SURVEY_ID
from flows.runtime.config import SecretRef, SourceConfig

RESPONSE = {
    "_endpoint": "responses",
    "responseId": "R_1DaVg8Fb0pbm9Bx",
    "values": {
        "startDate": "2023-03-31T15:31:55Z",
        "endDate": "2023-03-31T15:35:23Z",
        "status": 0,
        "ipAddress": "203.0.113.9",
        "progress": 100,
        "duration": 208,
        "finished": 1,
        "recordedDate": "2023-03-31T15:35:23.446Z",
        "_recordId": "R_1DaVg8Fb0pbm9Bx",
        "externalDataReference": "contact-77",
        "distributionChannel": "email",
        "userLanguage": "EN",
        "QID2_NPS_GROUP": 2,
        "QID2": 8,
        "QID3_TEXT": "next day delivery",
        "QID5": 4,
        "QID6": [1, 3],
        "QID7_4_TEXT": "The mobile app",
        "Account": "acct-12",
    },
    "labels": {
        "status": "IP Address",
        "finished": "True",
        "QID2_NPS_GROUP": "Passive",
        "QID2": "8",
        "QID5": "Satisfied",
        "QID6": ["Price", "Speed"],
    },
    "displayedFields": ["QID2", "QID3_TEXT", "QID5", "QID6", "QID7_4_TEXT"],
    "displayedValues": {"QID2": list(range(11)), "QID5": [1, 2, 3, 4, 5]},
}


def connector(**extra: Any) -> QualtricsConnector:
    source = SourceConfig(name="qx", type="qualtrics", survey_id="SV_abc123", **extra)
    return QualtricsConnector(source)


def test_nps_group_marks_the_nps_question_and_text_entries_are_joined():
    (row,) = connector(rating_question="QID5", account_field="Account").parse(RESPONSE)
    assert row["source_id"] == "R_1DaVg8Fb0pbm9Bx"
    assert row["nps"] == 8
    assert (row["rating"], row["rating_raw"], row["rating_scale"]) == (0.75, 4.0, "1-5")
    assert row["text"] == "next day delivery\n\nThe mobile app"
    assert row["tags"] == ["Price", "Speed"]
    assert (row["account_id"], row["customer_id"]) == ("acct-12", "contact-77")
    assert row["created_at"].isoformat() == "2023-03-31T15:35:23.446000+00:00"
    assert row["is_internal"] is False


def test_without_a_rating_question_the_csat_label_is_a_tag_and_rating_stays_empty():
    (row,) = connector().parse(RESPONSE)
    assert row["rating"] is None and row["nps"] == 8
    assert "Satisfied" in row["tags"]


def test_preview_responses_are_internal_and_bad_scores_fail():
    preview = {**RESPONSE, "values": {**RESPONSE["values"], "status": 1, "finished": 0}}
    (row,) = connector().parse(preview)
    assert row["is_internal"] is True and {"status:preview", "partial"} <= set(row["tags"])
    bad = {**RESPONSE, "values": {**RESPONSE["values"], "QID2": 14}}
    with pytest.raises(ParseError, match="QID2"):
        connector().parse(bad)
    with pytest.raises(ParseError, match="values"):
        connector().parse({"_endpoint": "responses", "responseId": "R_x"})


def sandbox_connector(sb: Any, monkeypatch: pytest.MonkeyPatch, token: str | None = None) -> Any:
    monkeypatch.setenv("QX_TOKEN", token or sb.vendor("qualtrics").credentials["api_token"])
    source = SourceConfig(
        name="qx", type="qualtrics", base_url=sb.url("qualtrics"), survey_id=SURVEY_ID,
        credentials={"api_token": SecretRef(env="QX_TOKEN")}, page_size=4, poll_interval_s=0,
    )  # fmt: skip
    return QualtricsConnector(source, http={"sleep": lambda s: None})


def test_export_polls_until_complete_and_commits_the_token_with_the_last_chunk(monkeypatch):
    with start_sandbox(vendors=("qualtrics",)) as sb:
        batches = list(sandbox_connector(sb, monkeypatch).fetch({}))
        paths = sb.requests_to("qualtrics")
    assert [len(b.items) for b in batches] == [4, 4, 2]
    assert paths[0] == f"API/v3/surveys/{SURVEY_ID}/export-responses"
    assert len([p for p in paths if "/ES_" in p]) == 3  # two "inProgress" polls, then complete
    assert paths[-1].endswith("/file")
    states = [b.state["surveys"][SURVEY_ID] for b in batches]
    assert "continuation" not in states[0] and states[0]["run"]["offset"] == 4
    assert states[-1] == {"continuation": states[-1]["continuation"]} and states[-1]["continuation"]


def test_resume_after_the_file_expired_exports_again_from_the_committed_token(monkeypatch):
    with start_sandbox(vendors=("qualtrics",)) as sb:
        app = sb.vendor("qualtrics")
        first = list(sandbox_connector(sb, monkeypatch).fetch({}))
        new = [app.add_response(n)["responseId"] for n in range(5)]
        fetched = sandbox_connector(sb, monkeypatch).fetch(first[-1].state)
        part = next(fetched)
        fetched.close()
        app.expire_files()
        newer = app.add_response(7)["responseId"]
        rest = list(sandbox_connector(sb, monkeypatch).fetch(part.state))
    assert [i["responseId"] for i in part.items] == new[:4]
    assert (
        part.state["surveys"][SURVEY_ID]["continuation"]
        == first[-1].state["surveys"][SURVEY_ID]["continuation"]
    )  # not moved before the file was fully landed
    got = [i["responseId"] for b in rest for i in b.items]
    assert got == [*new, newer]  # re-exported from the committed token: nothing lost


def test_401_reads_the_qualtrics_error_body(monkeypatch):
    with start_sandbox(vendors=("qualtrics",)) as sb:
        with pytest.raises(SourceAuthError) as failed:
            list(sandbox_connector(sb, monkeypatch, token="nope").fetch({}))
    assert failed.value.status == 401
    assert "401 - Unauthorized" in str(failed.value) and "QX_TOKEN" in str(failed.value)
