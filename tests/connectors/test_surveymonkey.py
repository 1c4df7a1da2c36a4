"""SurveyMonkey parsing on documented payload shapes (bulk responses + survey details)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.common.base import ParseError
from connectors.surveymonkey.connector import SurveyMonkeyConnector, is_nps, survey_summary
from flows.runtime.config import SourceConfig

NPS_WEIGHTS = [-100] * 7 + [0] * 2 + [100] * 2
DETAILS = {
    "id": "118744431",
    "title": "Customer survey",
    "pages": [{"id": "36802287", "questions": [
        {"id": "135811530", "family": "matrix", "subtype": "rating",
         "headings": [{"heading": "How likely is it that you would recommend this service?"}],
         "answers": {"rows": [{"id": "1", "text": "", "position": 1}],
                     "choices": [{"id": f"9{i:02d}", "text": str(i), "position": i + 1,
                                  "weight": w} for i, w in enumerate(NPS_WEIGHTS)]}},
        {"id": "135811531", "family": "matrix", "subtype": "rating",
         "headings": [{"heading": "Rate our support"}],
         "answers": {"rows": [{"id": "2", "text": "", "position": 1}],
                     "choices": [{"id": f"8{i}", "text": t, "position": i, "weight": i}
                                 for i, t in enumerate(("Poor", "Fair", "Good", "Great"), 1)]}},
        {"id": "135811532", "family": "open_ended", "subtype": "essay",
         "headings": [{"heading": "What should we improve?"}]},
        {"id": "135811533", "family": "single_choice", "subtype": "vertical",
         "headings": [{"heading": "Your plan"}],
         "answers": {"choices": [{"id": "71", "text": "Free", "position": 1},
                                 {"id": "72", "text": "Team", "position": 2}],
                     "other": {"id": "79", "text": "Other"}}},
        {"id": "135811534", "family": "open_ended", "subtype": "single",
         "headings": [{"heading": "Anything else?"}]},
    ]}],
}  # fmt: skip


def connector(**extra: Any) -> SurveyMonkeyConnector:
    source = SourceConfig(name="sm", type="surveymonkey", survey_id="118744431", **extra)
    return SurveyMonkeyConnector(source)


def response(*questions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "_endpoint": "responses",
        "_survey": survey_summary(DETAILS),
        "id": "5007154325",
        "recipient_id": "",
        "collector_id": "50253586",
        "survey_id": "118744431",
        "response_status": "completed",
        "custom_variables": {"account": "acct-9", "user": "u-3"},
        "analyze_url": "https://www.surveymonkey.com/analyze/browse/abc?respondent_id=5007154325",
        "date_created": "2024-02-01T10:00:00+00:00",
        "date_modified": "2024-02-03T08:30:00+00:00",
        "pages": [{"id": "36802287", "questions": list(questions)}],
        **extra,
    }


def q(qid: str, *answers: dict[str, Any]) -> dict[str, Any]:
    return {"id": qid, "answers": list(answers)}


def test_nps_question_scores_by_position_not_bucket_weight():
    summary = survey_summary(DETAILS)
    assert is_nps(summary["questions"]["135811530"])
    assert not is_nps(summary["questions"]["135811531"])
    (row,) = connector().parse(response(q("135811530", {"row_id": "1", "choice_id": "907"})))
    assert row["nps"] == 7  # weight 0 (passive), position 8
    assert row["rating"] is None


def test_rating_text_choices_and_variables():
    item = response(
        q("135811531", {"row_id": "2", "choice_id": "83"}),
        q("135811532", {"text": "Search is slow."}),
        q("135811533", {"choice_id": "72"}, {"other_id": "79", "text": "Enterprise trial"}),
    )
    (row,) = connector(account_variable="account", customer_variable="user").parse(item)
    assert (row["rating"], row["rating_raw"], row["rating_scale"]) == (2 / 3, 3.0, "1-4")
    assert row["text"] == (
        "What should we improve?: Search is slow.\n\nYour plan: Enterprise trial"
    )
    assert row["tags"] == ["Team"]
    assert (row["account_id"], row["customer_id"]) == ("acct-9", "u-3")
    assert row["url"].endswith("respondent_id=5007154325")
    assert row["updated_at"].isoformat() == "2024-02-03T08:30:00+00:00"


def test_single_open_answer_keeps_its_heading_as_title_and_partial_is_tagged():
    item = response(q("135811534", {"text": "Nice app"}), response_status="partial")
    (row,) = connector().parse(item)
    assert (row["title"], row["text"]) == ("Anything else?", "Nice app")
    assert row["tags"] == ["status:partial"]


def test_unknown_choice_and_bad_pages_are_parse_errors():
    with pytest.raises(ParseError, match="choice 555"):
        connector().parse(response(q("135811533", {"choice_id": "555"})))
    with pytest.raises(ParseError, match="pages"):
        connector().parse(response(pages={"id": 1}))
