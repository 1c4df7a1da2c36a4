"""Qualtrics: one survey's responses through the asynchronous response export (JSON in a ZIP).

The flow is not a paginated GET: POST .../export-responses starts an export, GET
.../export-responses/{progressId} is polled until "complete", then GET
.../export-responses/{fileId}/file returns a ZIP holding {"responses": [...]}. Every request
goes through the shared HttpClient (auth, retries, masking); only the polling loop is ours.

Traps handled:
- Incremental exports use `allowContinuation` / `continuationToken`: the token the completed
  export returns is committed only with the last batch of its file, so a crash re-exports
  from the previous token instead of skipping responses.
- One export is one file: batches are chunks of it. Mid-file state keeps the fileId and the
  offset; a resumed run downloads the same file again and skips what already landed (a file
  that expired, 404, means exporting again from the committed token: FILE_EXPIRED).
- Answers are keyed by question id: "QIDn_TEXT" is open text, "QIDn" with a "QIDn_NPS_GROUP"
  beside it is an NPS answer; a CSAT question is named in the options with its scale.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
import zipfile
from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import Field

from connectors.common.base import FetchedBatch, ParseError, parse_timestamp
from connectors.common.http.auth import AuthStrategy, HeaderTokenAuth
from connectors.common.http.client import HttpClient
from connectors.common.http.error_policy import Action, ErrorRule
from connectors.common.http.errors import SourceError
from connectors.common.rest import Endpoint, RestConnector, RestOptions, required
from connectors.common.survey_answers import SurveyAnswers
from connectors.common.text import text_or_none

API_DOCS = "https://api.qualtrics.com"
EXPORT_DOCS = f"{API_DOCS}/u9e5lh4172v0v-survey-response-export-guide"
TEXT_KEY = re.compile(r"^(QID\d+)(_\d+)*_TEXT$")
QUESTION_KEY = re.compile(r"^QID\d+(_\d+)*$")
INTERNAL_STATUS = {1: "preview", 2: "test", 9: "preview", 17: "preview"}  # values.status codes
CHUNK = 500
logger = logging.getLogger("chorus.connectors.qualtrics")
# a resumed run's export file is kept for a while only
FILE_EXPIRED = ErrorRule(
    Action.IGNORE, status={404}, message="export file expired; exporting again"
)


class QualtricsOptions(RestOptions):
    """Qualtrics keys: data center, survey, score questions, embedded-data fields, polling."""

    datacenter: str | None = Field(default=None, pattern=r"^[a-z0-9.-]+$")  # e.g. "iad1"
    survey_id: str = Field(pattern=r"^SV_[A-Za-z0-9]+$")
    nps_question: str | None = None  # default: any QIDn that has a QIDn_NPS_GROUP
    rating_question: str | None = None  # e.g. "QID2" for a CSAT question
    rating_scale: tuple[float, float] = (1.0, 5.0)
    account_field: str | None = None  # embedded data field, e.g. "account_id"
    customer_field: str | None = "externalDataReference"
    poll_interval_s: float = Field(default=2.0, ge=0)
    max_polls: int = Field(default=300, ge=1)


class QualtricsConnector(RestConnector):
    type = "qualtrics"
    source_kind = "survey"
    docs_url = f"{API_DOCS}/6b00592b9c013-start-response-export"
    description = "Qualtrics survey responses via the response export (text, CSAT, NPS)"
    Options = QualtricsOptions
    DEFAULT_BASE_URL = "https://{datacenter}.qualtrics.com"
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = ()

    def auth(self) -> tuple[AuthStrategy, str]:
        name = self.credential_name("api_token")
        token = self.secret("api_token")
        return HeaderTokenAuth("X-API-TOKEN", token, credential_name=name), name

    def _path(self, suffix: str = "") -> str:
        return f"API/v3/surveys/{self.options.survey_id}/export-responses{suffix}"

    # -- fetching ---------------------------------------------------------------------------

    def fetch(self, state: dict[str, Any]) -> Iterator[FetchedBatch]:
        """Chunks of one export file; the continuation token is committed with the last chunk."""
        state = json.loads(json.dumps(state or {}))
        ss = state.setdefault("surveys", {}).setdefault(self.options.survey_id, {})
        with self.client() as client:
            run = ss.get("run")
            responses = None
            if run is not None:
                responses = self._download(client, run["file_id"], errors=(FILE_EXPIRED,))
                if responses is None:
                    run = None
            if run is None:
                run = self._export(client, ss.get("continuation"))
                responses = self._download(client, run["file_id"])
            yield from self._chunks(state, ss, run, responses or [])

    def _chunks(
        self,
        state: dict[str, Any],
        ss: dict[str, Any],
        run: dict[str, Any],
        responses: list[dict[str, Any]],
    ) -> Iterator[FetchedBatch]:
        size = self.options.page_size or CHUNK
        offset = run["offset"]
        while True:
            chunk = responses[offset : offset + size]
            offset += len(chunk)
            if offset >= len(responses):
                ss.pop("run", None)
                ss["continuation"] = run["next_token"] or ss.get("continuation")
            else:
                ss["run"] = {**run, "offset": offset}
            items = [{**r, "_endpoint": "responses"} for r in chunk]
            meta = {"endpoint": "responses", "file_id": run["file_id"]}
            yield FetchedBatch(items=items, state=json.loads(json.dumps(state)), meta=meta)
            if "run" not in ss:
                return

    def _export(self, client: HttpClient, continuation: str | None) -> dict[str, Any]:
        """Start an export (continuing from the token when there is one) and wait for its file."""
        body: dict[str, Any] = {"format": "json", "compress": True, "allowContinuation": True}
        if continuation:
            body["continuationToken"] = continuation
        elif self.options.start_date:
            body["startDate"] = parse_timestamp(self.options.start_date).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
        started = client.request("POST", self._path(), json=body, expect_json=True).json()
        progress_id = _result(started, "progressId", self.name)
        sleep = self._http.get("sleep", time.sleep)
        for _ in range(self.options.max_polls):
            progress = client.get_json(self._path(f"/{progress_id}"))
            status = _result(progress, "status", self.name)
            if status == "complete":
                token = (progress.get("result") or {}).get("continuationToken")
                if not token:
                    logger.warning("source %r: export returned no continuationToken", self.name)
                file_id = _result(progress, "fileId", self.name)
                return {"file_id": file_id, "next_token": token, "offset": 0}
            if status == "failed":
                raise SourceError(
                    f"source {self.name!r}: response export {progress_id} failed", source=self.name
                )
            sleep(self.options.poll_interval_s)
        raise SourceError(
            f"source {self.name!r}: response export {progress_id} not complete after "
            f"{self.options.max_polls} polls; raise max_polls or poll_interval_s",
            source=self.name,
        )

    def _download(
        self, client: HttpClient, file_id: str, errors: tuple[ErrorRule, ...] = ()
    ) -> list[dict[str, Any]] | None:
        """The export file's responses (a ZIP holding one JSON file, or bare JSON); None when
        one of `errors` ignores the answer."""
        path = self._path(f"/{file_id}/file")
        response, ignored = client.send("GET", path, expect_json=False, errors=errors)
        if ignored is not None:
            return None
        content = response.content
        try:
            if content[:2] == b"PK":
                with zipfile.ZipFile(io.BytesIO(content)) as archive:
                    names = [n for n in archive.namelist() if n.endswith(".json")]
                    if not names:
                        raise SourceError(
                            f"source {self.name!r}: export file {file_id} holds no JSON file",
                            source=self.name,
                        )
                    content = archive.read(names[0])
            body = json.loads(content)
        except (zipfile.BadZipFile, ValueError) as exc:
            raise SourceError(
                f"source {self.name!r}: export file {file_id} is unreadable: {exc}",
                source=self.name,
            ) from None
        responses = body.get("responses") if isinstance(body, dict) else None
        if not isinstance(responses, list):
            raise SourceError(
                f"source {self.name!r}: export file {file_id} has no responses list",
                source=self.name,
            )
        return responses

    # -- parsing ----------------------------------------------------------------------------

    def parse_responses(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """One response: *_TEXT answers joined, NPS and the CSAT question scored, choices as tags."""
        rid = required(item, "responseId", "response")
        what = f"response {rid}"
        values = item.get("values")
        if not isinstance(values, dict):
            raise ParseError(f"{what}: values is missing or not an object")
        labels = item.get("labels") or {}
        created = parse_timestamp(values.get("recordedDate"), what=f"{what}: recordedDate")
        opt = self.options
        collected = SurveyAnswers()
        nps_keys = [opt.nps_question] if opt.nps_question else nps_questions(values)
        for key in nps_keys:
            collected.add_nps(values.get(key), f"{what}: {key}")
        if opt.rating_question:
            lo, hi = opt.rating_scale
            collected.add_rating(
                values.get(opt.rating_question), lo, hi, f"{what}: {opt.rating_question}"
            )
        scored = {*nps_keys, opt.rating_question}
        for key, value in values.items():
            if TEXT_KEY.match(key):
                collected.add_text(None, value)
            elif QUESTION_KEY.match(key) and key not in scored and key in labels:
                label = labels[key]
                for tag in label if isinstance(label, list) else [label]:
                    collected.add_tag(tag)
        status = values.get("status")
        internal = INTERNAL_STATUS.get(status) if isinstance(status, int) else None
        if internal:
            collected.add_tag(f"status:{internal}")
        if values.get("finished") in (0, False, "0"):
            collected.add_tag("partial")
        return [
            self.row(
                source_id=str(rid),
                account_id=text_or_none(values.get(opt.account_field))
                if opt.account_field
                else None,
                customer_id=text_or_none(values.get(opt.customer_field))
                if opt.customer_field
                else None,
                created_at=created,
                updated_at=created,
                is_internal=internal is not None,
                **collected.fields(),
            )
        ]


def nps_questions(values: dict[str, Any]) -> list[str]:
    """Question ids answered as NPS: those exported with a "<QID>_NPS_GROUP" beside them."""
    return [k.removesuffix("_NPS_GROUP") for k in values if k.endswith("_NPS_GROUP")]


def _result(body: Any, key: str, source: str) -> Any:
    """body["result"][key], or a SourceError quoting the unexpected body."""
    value = (body.get("result") or {}).get(key) if isinstance(body, dict) else None
    if value is None:
        raise SourceError(
            f"source {source!r}: Qualtrics answered without result.{key}: {str(body)[:200]}",
            source=source,
        )
    return value
