"""SurveyMonkey: one survey's responses (bulk, by date_modified), mapped with the survey's details.

Traps handled:
- Answers hold only question, row and choice ids: headings, choice texts and weights come from
  GET /v3/surveys/{id}/details, fetched once per run and attached to each item as `_survey`.
- The NPS question is a matrix/rating question with 11 choices whose weights are the NPS
  buckets (-100, 0, 100), not the score: the score is the choice's position (0-10).
- Responses are edited after submission: incremental by `date_modified` (sorted ascending);
  a Watermark keeps the ids at the boundary so an inclusive `start_modified_at` repeats nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field

from connectors.common.base import ParseError, parse_timestamp
from connectors.common.http.auth import AuthStrategy, BearerAuth
from connectors.common.http.paginators import NextUrlPaginator
from connectors.common.incremental import Watermark
from connectors.common.rest import Endpoint, RestOptions, required
from connectors.common.survey_answers import DefinedSurveyConnector, SurveyAnswers
from connectors.common.text import text_or_none

API_DOCS = "https://api.surveymonkey.com/v3/docs"
NPS_WEIGHTS = {-100, 0, 100}


def _sm_time(epoch: float) -> str:
    """SurveyMonkey's date filter format: YYYY-MM-DDTHH:MM:SS (UTC)."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


RESPONSES = Endpoint(
    name="responses",
    path="v3/surveys/{survey_id}/responses/bulk",
    records="data",
    paginator=lambda: NextUrlPaginator("links.next"),
    params={"sort_by": "date_modified", "sort_order": "ASC"},
    page_size_param="per_page",
    incremental=Watermark("date_modified", "start_modified_at", to_param=_sm_time),
    dedupe_key=lambda response: (response.get("id"), response.get("date_modified")),
    docs_url=f"{API_DOCS}#api-endpoints-survey-responses",
)


class SurveyMonkeyOptions(RestOptions):
    """SurveyMonkey keys: the survey, and which custom variables name the account and respondent."""

    survey_id: str = Field(pattern=r"^[0-9]+$")
    account_variable: str | None = None  # a custom_variables key, e.g. "account"
    customer_variable: str | None = None  # a custom_variables key, e.g. "user"


class SurveyMonkeyConnector(DefinedSurveyConnector):
    type = "surveymonkey"
    source_kind = "survey"
    docs_url = f"{API_DOCS}#api-endpoints-get-surveys-id-responses-bulk"
    description = "SurveyMonkey survey responses (open text, ratings, NPS, choices)"
    Options = SurveyMonkeyOptions
    DEFAULT_BASE_URL = "https://api.surveymonkey.com"
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = (RESPONSES,)
    DEFINITION_PATH = "v3/surveys/{survey_id}/details"
    DEFINITION_KEY = "_survey"
    DETAILS_DOCS = f"{API_DOCS}#api-endpoints-get-surveys-id-details"

    def auth(self) -> tuple[AuthStrategy, str]:
        """An OAuth access token (private app or public app), sent as Bearer."""
        name = self.credential_name("access_token")
        return BearerAuth(self.secret("access_token"), credential_name=name), name

    def summarize(self, definition: Any) -> dict[str, Any]:
        """What parsing needs from the survey's details (see survey_summary)."""
        return survey_summary(definition)

    def parse_responses(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """One response: open text joined, rating/NPS matrix answers scored, choices as tags."""
        rid = required(item, "id", "response")
        what = f"response {rid}"
        created = parse_timestamp(item.get("date_created"), what=f"{what}: date_created")
        modified = parse_timestamp(
            item.get("date_modified") or created, what=f"{what}: date_modified"
        )
        questions = (item.get("_survey") or {}).get("questions") or {}
        collected = SurveyAnswers()
        pages = item.get("pages") or []
        if not isinstance(pages, list):
            raise ParseError(f"{what}: pages is {type(pages).__name__}, not a list")
        for page in pages:
            for answered in page.get("questions") or []:
                qid = str(answered.get("id"))
                question = questions.get(qid) or {}
                for answer in answered.get("answers") or []:
                    add_answer(collected, question, answer, f"{what}: question {qid}")
        status = item.get("response_status")
        if status and status != "completed":
            collected.add_tag(f"status:{status}")
        variables = item.get("custom_variables") or {}
        opt = self.options
        return [
            self.row(
                source_id=str(rid),
                account_id=text_or_none(variables.get(opt.account_variable))
                if opt.account_variable
                else None,
                customer_id=text_or_none(variables.get(opt.customer_variable))
                if opt.customer_variable
                else None,
                created_at=created,
                updated_at=modified,
                url=text_or_none(item.get("analyze_url")),
                **collected.fields(),
            )
        ]


def survey_summary(details: Any) -> dict[str, Any]:
    """Per question id: heading, family, subtype, choices by id (text, position, weight), scale kind."""
    if not isinstance(details, dict):
        raise ParseError("survey details are not a JSON object")
    questions: dict[str, Any] = {}
    for page in details.get("pages") or []:
        for q in page.get("questions") or []:
            answers = q.get("answers") or {}
            choices = sorted(answers.get("choices") or [], key=lambda c: c.get("position") or 0)
            headings = q.get("headings") or [{}]
            questions[str(q.get("id"))] = {
                "heading": headings[0].get("heading"),
                "family": q.get("family"),
                "subtype": q.get("subtype"),
                "choices": {
                    str(c.get("id")): {
                        "text": c.get("text"),
                        "position": n,
                        "weight": c.get("weight"),
                    }
                    for n, c in enumerate(choices)
                },
                "other_id": str((answers.get("other") or {}).get("id") or "") or None,
            }
    return {"id": details.get("id"), "title": details.get("title"), "questions": questions}


def is_nps(question: dict[str, Any]) -> bool:
    """SurveyMonkey's NPS question: subtype "nps", or a rating matrix of 11 choices weighted in buckets."""
    if question.get("subtype") == "nps":
        return True
    choices = list((question.get("choices") or {}).values())
    weights = {c.get("weight") for c in choices}
    return (
        question.get("family") == "matrix"
        and question.get("subtype") == "rating"
        and len(choices) == 11
        and weights <= NPS_WEIGHTS
    )


def rating_scale(question: dict[str, Any]) -> tuple[float, float, bool]:
    """(lowest, highest, weighted) of a rating question: its choice weights, else positions 1..n."""
    choices = list((question.get("choices") or {}).values())
    weights = [c.get("weight") for c in choices]
    if choices and all(isinstance(w, int | float) for w in weights) and len(set(weights)) > 1:
        return float(min(weights)), float(max(weights)), True
    return 1.0, float(max(len(choices), 2)), False


def choice_score(question: dict[str, Any], choice: dict[str, Any]) -> float:
    """A rating choice's score: its weight when the question is weighted, else position + 1."""
    weighted = rating_scale(question)[2]
    return float(choice["weight"]) if weighted else choice["position"] + 1.0


def add_answer(
    collected: SurveyAnswers, question: dict[str, Any], answer: dict[str, Any], what: str
) -> None:
    """Fold one answer (text, choice_id, row_id/choice_id, other_id) into the response."""
    heading = question.get("heading")
    choice_id = answer.get("choice_id")
    if choice_id is None:
        collected.add_text(heading, answer.get("text"))  # open-ended or "other" comment
        return
    choice = (question.get("choices") or {}).get(str(choice_id))
    if choice is None:
        raise ParseError(f"{what}: choice {choice_id} is not in the survey details")
    if question.get("family") == "matrix" and is_nps(question):
        collected.add_nps(choice["position"], what)
    elif question.get("family") == "matrix" and question.get("subtype") == "rating":
        lo, hi, _ = rating_scale(question)
        collected.add_rating(choice_score(question, choice), lo, hi, what)
    else:
        collected.add_tag(choice.get("text"))
