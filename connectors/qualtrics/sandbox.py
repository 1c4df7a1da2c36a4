"""Qualtrics sandbox: the asynchronous response export (start, poll progress, download a ZIP).

POST API/v3/surveys/{surveyId}/export-responses takes a JSON body ({format, allowContinuation,
continuationToken, startDate}); progress answers "inProgress" a couple of times before
"complete" with a fileId (and a continuationToken when asked); the file is a ZIP holding
{"responses": [...]}. Errors are {"meta": {"httpStatus": "401 - Unauthorized", "error": {...}}}.
"""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from typing import Any, ClassVar

from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import BadRequest, Request, Response, VendorApp, route

SURVEY_ID = "SV_9uDsandbox1A"
POLLS_IN_PROGRESS = 2
STATUS_TEXT = {
    400: "400 - Bad Request",
    401: "401 - Unauthorized",
    404: "404 - Not Found",
    429: "429 - Too Many Requests",
    500: "500 - Internal Server Error",
    503: "503 - Service Unavailable",
}


class QualtricsSandbox(VendorApp):
    """Responses to one invented survey, exported the Qualtrics way."""

    name = "qualtrics"
    default_credentials: ClassVar[dict[str, str]] = {"api_token": "qx-sandbox-token-5b7e2c19"}

    def __init__(self, data: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> None:
        self.clock = fx.Clock()
        self.rng = random.Random(kw.get("seed", 0))
        self.exports: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        super().__init__(data, **kw)
        self.store.setdefault("responses", [])
        times = [fx.epoch(r["values"]["recordedDate"][:19] + "Z") for r in self.store["responses"]]
        self.clock.now = max([self.clock.now, *times])

    def fixtures(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        self.store = {"responses": []}
        for n in range(10):
            self.add_response(n)
        return self.store

    def _seq(self) -> int:
        return max([0, *(r["_seq"] for r in self.store["responses"])]) + 1

    def add_response(self, n: int = 0, status: int = 0) -> dict[str, Any]:
        """A recorded response: NPS (QID1), CSAT 1-5 (QID2), open text (QID3_TEXT), choices (QID4)."""
        with self.lock:
            rng, now = self.rng, self.clock.tick()
            rid = f"R_{self._seq():03d}{rng.randrange(16**8):08x}"
            nps, csat = rng.randrange(11), 1 + rng.randrange(5)
            group = 1 if nps <= 6 else 2 if nps <= 8 else 3
            picks = sorted(rng.sample((1, 2, 3), k=1 + n % 2))
            values: dict[str, Any] = {
                "startDate": fx.iso(now - 95), "endDate": fx.iso(now), "status": status,
                "ipAddress": "198.51.100.7", "progress": 100, "duration": 95, "finished": 1,
                "recordedDate": fx.iso(now)[:-1] + ".123Z", "_recordId": rid,
                "distributionChannel": "anonymous", "userLanguage": "EN",
                "QID1_NPS_GROUP": group, "QID1": nps, "QID2": csat,
                "QID3_TEXT": fx.BODIES[n % len(fx.BODIES)], "QID4": picks,
                "account_id": f"acct-{300 + n % 3}", "externalDataReference": f"contact-{n}",
            }  # fmt: skip
            features = {1: "Dashboards", 2: "Exports", 3: "Mobile app"}
            labels = {
                "status": "IP Address", "finished": "True",
                "QID1_NPS_GROUP": {1: "Detractor", 2: "Passive", 3: "Promoter"}[group],
                "QID1": str(nps), "QID2": ["", "Very dissatisfied", "Dissatisfied", "Neutral",
                                          "Satisfied", "Very satisfied"][csat],
                "QID4": [features[p] for p in picks],
            }  # fmt: skip
            response = {
                "responseId": rid,
                "values": values,
                "labels": labels,
                "displayedFields": ["QID1", "QID2", "QID3_TEXT", "QID4"],
                "displayedValues": {"QID1": list(range(11)), "QID2": [1, 2, 3, 4, 5]},
                "_seq": self._seq(),
            }
            self.store["responses"].append(response)
            return response

    # -- HTTP -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        if request.headers.get("X-API-TOKEN") == self.credentials["api_token"]:
            return None
        return self.error(401, "Invalid or missing API token.")

    def error(self, status: int, message: str) -> Response:
        meta = {
            "httpStatus": STATUS_TEXT.get(status, f"{status} - Error"),
            "requestId": f"req-{self.rng.randrange(16**8):08x}",
            "error": {"errorMessage": message, "errorCode": f"Q_{status}"},
        }
        return Response(status, {"meta": meta})

    @staticmethod
    def _ok(result: dict[str, Any]) -> Response:
        return Response(body={"result": result, "meta": {"httpStatus": "200 - OK"}})

    @route("POST", r"API/v3/surveys/([^/]+)/export-responses")
    def start_export(self, request: Request, match: re.Match[str]) -> Response:
        """Snapshot the matching responses into a file now; report progress on later polls."""
        if match.group(1) != SURVEY_ID:
            return self.error(404, "Survey not found.")
        body = request.json()
        if not isinstance(body, dict):
            raise BadRequest("body is not a JSON object")
        if body.get("format") != "json":
            raise BadRequest("this sandbox exports format json only")
        after = 0
        if body.get("continuationToken"):
            try:
                after = int(fx.decode_cursor(body["continuationToken"]))
            except (ValueError, TypeError):
                raise BadRequest("invalid continuationToken") from None
        rows = [r for r in self.store["responses"] if r["_seq"] > after]
        if body.get("startDate") and not body.get("continuationToken"):
            rows = [r for r in rows if r["values"]["recordedDate"] >= body["startDate"]]
        rows.sort(key=lambda r: r["_seq"])
        progress_id = f"ES_{len(self.exports) + 1:04d}"
        file_id = f"{progress_id.lower()}-file"
        latest = max([after, *(r["_seq"] for r in self.store["responses"])])
        self.exports[progress_id] = {
            "polls": 0,
            "file_id": file_id,
            "token": fx.encode_cursor(latest) if body.get("allowContinuation") else None,
        }
        self.files[file_id] = _zip({"responses": [fx.public(r) for r in rows]})
        return self._ok({"progressId": progress_id, "percentComplete": 0.0, "status": "inProgress"})

    @route("GET", r"API/v3/surveys/([^/]+)/export-responses/(ES_[^/]+)")
    def export_progress(self, request: Request, match: re.Match[str]) -> Response:
        export = self.exports.get(match.group(2))
        if export is None:
            return self.error(404, "Export not found.")
        export["polls"] += 1
        if export["polls"] <= POLLS_IN_PROGRESS:
            done = 100.0 * export["polls"] / (POLLS_IN_PROGRESS + 1)
            return self._ok({"percentComplete": round(done, 1), "status": "inProgress"})
        result = {"fileId": export["file_id"], "percentComplete": 100.0, "status": "complete"}
        if export["token"]:
            result["continuationToken"] = export["token"]
        return self._ok(result)

    @route("GET", r"API/v3/surveys/([^/]+)/export-responses/([^/]+)/file")
    def export_file(self, request: Request, match: re.Match[str]) -> Response:
        content = self.files.get(match.group(2))
        if content is None:
            return self.error(404, "File not found or expired.")
        return Response(body=content, headers={"Content-Type": "application/zip"})

    def expire_files(self) -> None:
        """Forget every export file (Qualtrics keeps them for a limited time)."""
        with self.lock:
            self.files.clear()


def _zip(body: dict[str, Any]) -> bytes:
    """A ZIP holding one JSON file, as Qualtrics serves a compressed export."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{SURVEY_ID}.json", json.dumps(body))
    return out.getvalue()
