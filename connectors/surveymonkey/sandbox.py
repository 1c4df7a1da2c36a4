"""SurveyMonkey sandbox: survey details and bulk responses (GET /v3/surveys/{id}/...).

Speaks the documented shapes: `data`, `per_page` (max 100), `page`, `total`, `links.self/next/last`;
`start_modified_at` (inclusive), `sort_by=date_modified`, `sort_order`. Errors are
{"error": {"id", "name", "docs", "message", "http_status_code"}}.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any, ClassVar
from urllib.parse import urlencode

from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import BadRequest, Request, Response, VendorApp, route

PAGE_MAX = 100
SURVEY_ID = "412345678"
FEATURES = ("Dashboards", "Exports", "Mobile app")
ERROR_IDS = {400: "1002", 401: "1011", 404: "1020", 429: "1040", 500: "1050", 503: "1050"}


def survey_details(survey_id: str = SURVEY_ID) -> dict[str, Any]:
    """An invented survey: NPS (bucket weights), a weighted 1-5 CSAT, an essay, a choice with other."""
    nps_weights = [-100] * 7 + [0] * 2 + [100] * 2
    return {
        "id": survey_id,
        "title": "Quarterly customer survey",
        "pages": [{"id": "30001", "questions": [
            {"id": "50001", "family": "matrix", "subtype": "rating",
             "headings": [{"heading": "How likely is it that you would recommend us?"}],
             "answers": {"rows": [{"id": "60001", "text": "", "position": 1}],
                         "choices": [{"id": str(61000 + i), "text": str(i), "position": i + 1,
                                      "weight": w} for i, w in enumerate(nps_weights)]}},
            {"id": "50002", "family": "matrix", "subtype": "rating",
             "headings": [{"heading": "How satisfied are you with support?"}],
             "answers": {"rows": [{"id": "60002", "text": "", "position": 1}],
                         "choices": [{"id": str(62000 + i), "text": f"{i} star", "position": i,
                                      "weight": i} for i in range(1, 6)]}},
            {"id": "50003", "family": "open_ended", "subtype": "essay",
             "headings": [{"heading": "What should we improve?"}]},
            {"id": "50004", "family": "multiple_choice", "subtype": "vertical",
             "headings": [{"heading": "Which features do you use?"}],
             "answers": {"choices": [{"id": str(63000 + i), "text": f, "position": i + 1}
                                     for i, f in enumerate(FEATURES)],
                         "other": {"id": "63999", "text": "Other (please specify)"}}},
        ]}],
    }  # fmt: skip


class SurveyMonkeySandbox(VendorApp):
    """Responses to one invented survey."""

    name = "surveymonkey"
    default_credentials: ClassVar[dict[str, str]] = {"access_token": "sm-sandbox-token-3d9f61a0"}

    def __init__(self, data: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> None:
        self.clock = fx.Clock()
        self.rng = random.Random(kw.get("seed", 0))
        super().__init__(data, **kw)
        self.store.setdefault("surveys", [survey_details()])
        self.store.setdefault("responses", [])
        times = [fx.epoch(r["date_modified"]) for r in self.store["responses"]]
        self.clock.now = max([self.clock.now, *times])

    def fixtures(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        self.store = {"surveys": [survey_details()], "responses": []}
        for n in range(9):
            self.add_response(n)
        self.edit_response(self.store["responses"][2]["id"], "Edited: exports are fine now.")
        return self.store

    def add_response(self, n: int = 0, at: int | None = None) -> dict[str, Any]:
        """A completed response (at `at`, else a tick later)."""
        with self.lock:
            rng = self.rng
            now = at if at is not None else self.clock.tick()
            rid = str(max([114000000, *(int(r["id"]) for r in self.store["responses"])]) + 1)
            questions: list[dict[str, Any]] = [
                {"id": "50001", "answers": [{"row_id": "60001", "choice_id": str(61000 + rng.randrange(11))}]},
                {"id": "50002", "answers": [{"row_id": "60002", "choice_id": str(62001 + rng.randrange(5))}]},
                {"id": "50003", "answers": [{"text": fx.BODIES[n % len(fx.BODIES)]}]},
            ]  # fmt: skip
            picks = [{"choice_id": str(63000 + rng.randrange(len(FEATURES)))}]
            if n % 3 == 0:
                picks.append({"other_id": "63999", "text": "Slack alerts"})
            questions.append({"id": "50004", "answers": picks})
            response = {
                "id": rid,
                "recipient_id": "",
                "collection_mode": "default",
                "response_status": "completed" if n % 5 else "partial",
                "custom_value": "",
                "ip_address": "192.0.2.10",
                "logic_path": {},
                "metadata": {"contact": {}},
                "page_path": [],
                "collector_id": "255000001",
                "survey_id": SURVEY_ID,
                "custom_variables": {"account": f"acct-{200 + n % 3}", "user": f"u{n}"},
                "edit_url": f"https://www.surveymonkey.com/r/?sm=edit{rid}",
                "analyze_url": f"https://www.surveymonkey.com/analyze/browse/{SURVEY_ID}?respondent_id={rid}",
                "total_time": 60 + n,
                "date_created": fx.iso(now),
                "date_modified": fx.iso(now),
                "href": f"https://api.surveymonkey.com/v3/surveys/{SURVEY_ID}/responses/{rid}",
                "pages": [{"id": "30001", "questions": questions}],
            }  # fmt: skip
            self.store["responses"].append(response)
            return response

    def edit_response(self, rid: str, text: str, at: int | None = None) -> dict[str, Any]:
        """The respondent (or an admin) edits the open answer; date_modified moves."""
        with self.lock:
            response = next(r for r in self.store["responses"] if r["id"] == rid)
            for q in response["pages"][0]["questions"]:
                if q["id"] == "50003":
                    q["answers"] = [{"text": text}]
            response["date_modified"] = fx.iso(at if at is not None else self.clock.tick())
            return response

    # -- HTTP -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        expected = f"bearer {self.credentials['access_token']}"
        if request.headers.get("Authorization", "").lower() == expected.lower():
            return None
        return self.error(401, "The authorization token was not provided.")

    def error(self, status: int, message: str) -> Response:
        name = {401: "Authorization Error", 404: "Resource Not Found", 429: "Rate Limit Reached"}
        return Response(
            status,
            {
                "error": {
                    "id": ERROR_IDS.get(status, "1050"),
                    "name": name.get(
                        status, "Bad Request" if status == 400 else "Internal Server Error"
                    ),
                    "docs": "https://developer.surveymonkey.com/api/v3/#error-codes",
                    "message": message,
                    "http_status_code": status,
                }
            },
        )

    @route("GET", r"v3/surveys/([0-9]+)/details")
    def details(self, request: Request, match: re.Match[str]) -> Response:
        survey = next((s for s in self.store["surveys"] if s["id"] == match.group(1)), None)
        return Response(body=survey) if survey else self.error(404, "Survey not found")

    @route("GET", r"v3/surveys/([0-9]+)/responses/bulk")
    def bulk(self, request: Request, match: re.Match[str]) -> Response:
        """Responses modified at or after start_modified_at, sorted by date_modified, paged."""
        size = self.page_size(request, "per_page", 50, PAGE_MAX)
        try:
            page = int(request.q("page") or 1)
        except ValueError:
            raise BadRequest("page must be an integer") from None
        start = request.q("start_modified_at")
        if request.q("sort_by") not in (None, "date_modified"):
            raise BadRequest("sort_by must be date_modified")
        try:
            since = fx.epoch(start + "Z") if start else None
        except ValueError:
            raise BadRequest(
                f"start_modified_at must be YYYY-MM-DDTHH:MM:SS, got {start!r}"
            ) from None
        rows = sorted(
            (
                r
                for r in self.store["responses"]
                if r["survey_id"] == match.group(1)
                and (since is None or fx.epoch(r["date_modified"]) >= since)
            ),
            key=lambda r: (r["date_modified"], r["id"]),
            reverse=request.q("sort_order", "ASC").upper() == "DESC",
        )
        last = max(1, math.ceil(len(rows) / size))
        base = f"{request.base_url}/v3/surveys/{match.group(1)}/responses/bulk?"
        query = {k: v for k, v in request.query.items() if k != "page"}

        def link(n: int) -> str:
            return base + urlencode({**query, "per_page": size, "page": n})

        links = {"self": link(page), "last": link(last)}
        if page < last:
            links["next"] = link(page + 1)
        if page > 1:
            links["prev"] = link(page - 1)
        chunk = rows[(page - 1) * size : page * size]
        return Response(
            body={"data": chunk, "per_page": size, "page": page, "total": len(rows), "links": links}
        )
