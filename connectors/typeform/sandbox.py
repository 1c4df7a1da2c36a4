"""Typeform sandbox: a form definition (GET /forms/{id}) and its responses (GET /forms/{id}/responses).

Speaks the documented shapes: `items`, `total_items`, `page_count`; `page_size` (max 1000);
`since`/`until` inclusive (epoch seconds or ISO 8601); `before`/`after` response tokens, which
order by processing instead of the default `submitted_at` descending. Errors are
{"code", "description"}.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any, ClassVar

from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import BadRequest, Request, Response, VendorApp, route

PAGE_MAX = 1000
FORM_ID = "fbKq9Zx1"
FEATURES = ("Dashboards", "Exports", "Mobile app", "Integrations")


def form_definition(form_id: str = FORM_ID) -> dict[str, Any]:
    """An invented feedback form: NPS, a 1-5 satisfaction scale, two open questions, a choice."""
    return {
        "id": form_id,
        "title": "Product feedback",
        "type": "quiz",
        "hidden": ["account_id", "user_id"],
        "fields": [
            {"id": "Nps01", "ref": "nps", "title": "How likely are you to recommend us?",
             "type": "nps", "properties": {}},
            {"id": "Csat01", "ref": "csat", "title": "How satisfied are you overall?",
             "type": "opinion_scale", "properties": {"steps": 5, "start_at_one": True}},
            {"id": "Better01", "ref": "better", "title": "What could we do better?",
             "type": "long_text", "properties": {}},
            {"id": "Grp01", "ref": "more", "title": "A bit more", "type": "group",
             "properties": {"fields": [
                 {"id": "Else01", "ref": "else", "title": "Anything else?",
                  "type": "short_text", "properties": {}},
                 {"id": "Feat01", "ref": "features", "title": "Which features do you use?",
                  "type": "multiple_choice",
                  "properties": {"allow_multiple_selection": True,
                                 "choices": [{"id": f"c{i}", "label": f}
                                             for i, f in enumerate(FEATURES)]}},
             ]}},
        ],
        "_links": {"display": f"https://example.typeform.com/to/{form_id}"},
    }  # fmt: skip


class TypeformSandbox(VendorApp):
    """Responses to one invented feedback form."""

    name = "typeform"
    default_credentials: ClassVar[dict[str, str]] = {"access_token": "tfp_sandbox_7c1e9a2b44d0"}

    def __init__(self, data: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> None:
        self.clock = fx.Clock()
        self.rng = random.Random(kw.get("seed", 0))
        super().__init__(data, **kw)
        self.store.setdefault("forms", [form_definition()])
        self.store.setdefault("responses", [])
        times = [fx.epoch(r["submitted_at"]) for r in self.store["responses"]]
        self.clock.now = max([self.clock.now, *times])

    def fixtures(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        self.store = {"forms": [form_definition()], "responses": []}
        for n in range(9):
            self.add_response(n)
        last = self.store["responses"][-1]
        self.add_response(9, at=fx.epoch(last["submitted_at"]))  # two in the same second
        return self.store

    def add_response(self, n: int = 0, at: int | None = None) -> dict[str, Any]:
        """A submitted response (at `at`, else a tick later); processing order follows calls."""
        with self.lock:
            rng = self.rng
            now = at if at is not None else self.clock.tick()
            seq = len(self.store["responses"]) + 1
            token = f"tok{seq:04d}{rng.randrange(16**6):06x}"
            answers: list[dict[str, Any]] = [
                {"field": {"id": "Nps01", "type": "nps", "ref": "nps"},
                 "type": "number", "number": rng.randrange(11)},
                {"field": {"id": "Csat01", "type": "opinion_scale", "ref": "csat"},
                 "type": "number", "number": 1 + rng.randrange(5)},
                {"field": {"id": "Better01", "type": "long_text", "ref": "better"},
                 "type": "text", "text": fx.BODIES[n % len(fx.BODIES)]},
            ]  # fmt: skip
            if n % 2:
                answers.append(
                    {"field": {"id": "Else01", "type": "short_text", "ref": "else"},
                     "type": "text", "text": fx.REPLIES[n % len(fx.REPLIES)]}
                )  # fmt: skip
            labels = rng.sample(FEATURES, k=1 + n % 2)
            answers.append(
                {"field": {"id": "Feat01", "type": "multiple_choice", "ref": "features"},
                 "type": "choices", "choices": {"labels": labels}}
            )  # fmt: skip
            response = {
                "landing_id": token,
                "token": token,
                "response_id": token,
                "landed_at": fx.iso(now - 120),
                "submitted_at": fx.iso(now),
                "metadata": {"user_agent": "Mozilla/5.0", "platform": "other",
                             "referer": f"https://example.typeform.com/to/{FORM_ID}",
                             "network_id": "a1b2c3", "browser": "default"},
                "hidden": {"account_id": f"acct-{100 + n % 4}", "user_id": f"user-{n}"},
                "calculated": {"score": 0},
                "answers": answers,
                "_seq": seq,
                "_form_id": FORM_ID,
            }  # fmt: skip
            self.store["responses"].append(response)
            return response

    # -- HTTP -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") == f"Bearer {self.credentials['access_token']}":
            return None
        return Response(
            401,
            {
                "code": "AUTHENTICATION_FAILED",
                "description": "Authentication credentials not found on the Request Headers",
            },
        )

    def error(self, status: int, message: str) -> Response:
        code = {400: "VALIDATION_ERROR", 404: "FORM_NOT_FOUND", 429: "RATE_LIMITED"}
        return Response(
            status, {"code": code.get(status, "INTERNAL_ERROR"), "description": message}
        )

    def _form(self, form_id: str) -> dict[str, Any] | None:
        return next((f for f in self.store["forms"] if f["id"] == form_id), None)

    @route("GET", r"forms/([^/]+)")
    def retrieve_form(self, request: Request, match: re.Match[str]) -> Response:
        form = self._form(match.group(1))
        return Response(body=form) if form else self.error(404, "Form not found")

    def _time(self, request: Request, name: str) -> int | None:
        raw = request.q(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw) if raw.isdigit() else fx.epoch(raw if raw.endswith("Z") else raw + "Z")
        except ValueError:
            raise BadRequest(f"{name} must be epoch seconds or ISO 8601, got {raw!r}") from None

    def _seq_of(self, token: str) -> int:
        for r in self.store["responses"]:
            if r["token"] == token:
                return r["_seq"]
        raise BadRequest(f"unknown response token {token!r}")

    @route("GET", r"forms/([^/]+)/responses")
    def retrieve_responses(self, request: Request, match: re.Match[str]) -> Response:
        """Responses filtered by since/until (inclusive) and a before/after token."""
        if self._form(match.group(1)) is None:
            return self.error(404, "Form not found")
        size = self.page_size(request, "page_size", 25, PAGE_MAX)
        since, until = self._time(request, "since"), self._time(request, "until")
        before, after = request.q("before"), request.q("after")
        rows = [
            r
            for r in self.store["responses"]
            if r["_form_id"] == match.group(1)
            and (since is None or fx.epoch(r["submitted_at"]) >= since)
            and (until is None or fx.epoch(r["submitted_at"]) <= until)
        ]
        if before:
            pivot = self._seq_of(before)
            rows = sorted((r for r in rows if r["_seq"] < pivot), key=lambda r: -r["_seq"])
        elif after:
            pivot = self._seq_of(after)
            rows = sorted((r for r in rows if r["_seq"] > pivot), key=lambda r: r["_seq"])
        else:
            rows = sorted(rows, key=lambda r: (r["submitted_at"], r["_seq"]), reverse=True)
        return Response(
            body={
                "total_items": len(rows),
                "page_count": math.ceil(len(rows) / size),
                "items": [fx.public(r) for r in rows[:size]],
            }
        )
