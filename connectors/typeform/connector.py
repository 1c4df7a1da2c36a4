"""Typeform: one form's responses (Responses API), mapped with its definition (Create API).

Traps handled:
- `since` is inclusive: the response submitted exactly at the cursor comes back on the next
  run. The Watermark cursor keeps the tokens seen at its timestamp and drops them, while a new
  response submitted in that same second still arrives.
- Pages follow the `before` token (the last response's token), newest first, as Typeform
  documents for reading every response; a response submitted while we page is newer than the
  cursor we commit, so the next run's `since` picks it up.
- Answers carry only a field id/type/ref: scales (steps, start_at_one) and titles live in the
  form definition, fetched once per run and attached to each item as `_form`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field

from connectors.common.base import ParseError, parse_timestamp
from connectors.common.http.auth import AuthStrategy, BearerAuth
from connectors.common.http.paginators import CursorPaginator
from connectors.common.incremental import Watermark
from connectors.common.rest import Endpoint, RestOptions, required
from connectors.common.survey_answers import DefinedSurveyConnector, SurveyAnswers
from connectors.common.text import text_or_none

API_DOCS = "https://www.typeform.com/developers"
TEXT_FIELDS = {"short_text", "long_text"}
SCALE_FIELDS = {"opinion_scale", "rating", "nps"}
CHOICE_FIELDS = {"multiple_choice", "dropdown", "picture_choice", "ranking"}


def _typeform_time(epoch: float) -> str:
    """Typeform's `since` format: ISO 8601 UTC to the second, no zone suffix."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _last_token(body: Any) -> str | None:
    """The token of a page's last response: the `before` of the next page (None: no more)."""
    items = (body or {}).get("items") or []
    return items[-1].get("token") if items else None


RESPONSES = Endpoint(
    name="responses",
    path="forms/{form_id}/responses",
    records="items",
    paginator=lambda: CursorPaginator("before", _last_token),
    page_size_param="page_size",
    incremental=Watermark("submitted_at", "since", id_field="token", to_param=_typeform_time),
    dedupe_key=lambda response: response.get("token"),
    docs_url=f"{API_DOCS}/responses/reference/retrieve-responses/",
)


class TypeformOptions(RestOptions):
    """Typeform keys: the form, and which hidden fields name the account and the respondent."""

    form_id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    account_hidden_field: str | None = None  # e.g. "account_id"
    customer_hidden_field: str | None = None  # e.g. "user_id" or "email"


class TypeformConnector(DefinedSurveyConnector):
    type = "typeform"
    source_kind = "survey"
    docs_url = f"{API_DOCS}/responses/reference/retrieve-responses/"
    description = "Typeform form responses (open text, ratings, NPS, choices)"
    Options = TypeformOptions
    DEFAULT_BASE_URL = "https://api.typeform.com"
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = (RESPONSES,)
    DEFINITION_PATH = "forms/{form_id}"
    DEFINITION_KEY = "_form"
    FORM_DOCS = f"{API_DOCS}/create/reference/retrieve-form/"

    def auth(self) -> tuple[AuthStrategy, str]:
        """A personal access token (scopes forms:read, responses:read) as a Bearer token."""
        name = self.credential_name("access_token")
        return BearerAuth(self.secret("access_token"), credential_name=name), name

    def summarize(self, definition: Any) -> dict[str, Any]:
        """What parsing needs from the form definition (see form_summary)."""
        return form_summary(definition)

    def parse_responses(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """One response: open text joined, scales as rating or NPS, choices as tags."""
        rid = item.get("response_id") or required(item, "token", "response")
        what = f"response {rid}"
        created = parse_timestamp(item.get("submitted_at"), what=f"{what}: submitted_at")
        form = item.get("_form") or {}
        fields = form.get("fields") or {}
        answers = item.get("answers") or []
        if not isinstance(answers, list):
            raise ParseError(f"{what}: answers is {type(answers).__name__}, not a list")
        collected = SurveyAnswers()
        for answer in answers:
            add_answer(collected, answer, fields, what)
        hidden = item.get("hidden") or {}
        opt = self.options
        return [
            self.row(
                source_id=str(rid),
                account_id=text_or_none(hidden.get(opt.account_hidden_field))
                if opt.account_hidden_field
                else None,
                customer_id=text_or_none(hidden.get(opt.customer_hidden_field))
                if opt.customer_hidden_field
                else None,
                created_at=created,
                updated_at=created,
                **collected.fields(),
            )
        ]


def form_summary(definition: Any) -> dict[str, Any]:
    """What parsing needs from a form definition: per field id its title, type, ref and scale."""
    if not isinstance(definition, dict):
        raise ParseError("form definition is not a JSON object")
    fields: dict[str, Any] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for f in items or []:
            props = f.get("properties") or {}
            if props.get("fields"):  # group / inline_group: nested questions
                walk(props["fields"])
            fields[str(f.get("id"))] = {
                "title": f.get("title"),
                "type": f.get("type"),
                "ref": f.get("ref"),
                "steps": props.get("steps"),
                "start_at_one": props.get("start_at_one"),
            }

    walk(definition.get("fields") or [])
    return {"id": definition.get("id"), "title": definition.get("title"), "fields": fields}


def scale_of(field: dict[str, Any]) -> tuple[int, int]:
    """(lowest, highest) score: rating 1..steps; opinion scale 0 or 1 upwards; nps 0..10."""
    kind = field.get("type")
    if kind == "nps":
        return 0, 10
    if kind == "rating":
        return 1, int(field.get("steps") or 5)
    start = 1 if field.get("start_at_one") else 0
    return start, start + int(field.get("steps") or 11) - 1


def is_nps(field: dict[str, Any]) -> bool:
    """Typeform's NPS question: type "nps", or an opinion scale running 0-10."""
    return field.get("type") == "nps" or (
        field.get("type") == "opinion_scale" and scale_of(field) == (0, 10)
    )


def add_answer(
    collected: SurveyAnswers, answer: dict[str, Any], fields: dict[str, Any], what: str
) -> None:
    """Fold one typed answer into the response's text, rating, NPS and tags."""
    ref = answer.get("field") or {}
    field = {
        **{"type": ref.get("type"), "ref": ref.get("ref")},
        **fields.get(str(ref.get("id")), {}),
    }
    kind, title = field.get("type"), field.get("title") or field.get("ref")
    where = f"{what}: field {ref.get('ref') or ref.get('id')}"
    if kind in TEXT_FIELDS:
        collected.add_text(title, answer.get("text"))
    elif kind in SCALE_FIELDS:
        if is_nps(field):
            collected.add_nps(answer.get("number"), where)
        elif kind != "nps":
            lo, hi = scale_of(field)
            collected.add_rating(answer.get("number"), lo, hi, where)
    elif answer.get("type") == "choice":
        choice = answer.get("choice") or {}
        collected.add_tag(choice.get("label"))
        collected.add_text(title, choice.get("other"))
    elif answer.get("type") == "choices":
        choices = answer.get("choices") or {}
        for label in choices.get("labels") or []:
            collected.add_tag(label)
        collected.add_text(title, choices.get("other"))
    elif answer.get("type") == "boolean" and kind == "yes_no":
        collected.add_tag(
            f"{field.get('ref') or ref.get('id')}:{'yes' if answer.get('boolean') else 'no'}"
        )
    elif kind in CHOICE_FIELDS and answer.get("type") == "text":
        collected.add_tag(answer.get("text"))
