"""The shared sandbox server: request bodies reach vendor apps, raw bytes go out as they are,
and the truncation fault cuts them too."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from connectors.common.sandbox.http_faults import FaultPlan
from connectors.common.sandbox.server import Request, Response, Sandbox, VendorApp, route

PAYLOAD = bytes(range(256)) * 8


class EchoApp(VendorApp):
    """Answers with what it was sent."""

    name = "echo"

    @route("POST", r"json")
    def echo_json(self, request: Request, match: re.Match[str]) -> Response:
        return Response(body={"got": request.json(), "raw": request.body.decode()})

    @route("POST", r"form")
    def echo_form(self, request: Request, match: re.Match[str]) -> Response:
        return Response(body=request.form())

    @route("GET", r"file")
    def file(self, request: Request, match: re.Match[str]) -> Response:
        return Response(body=PAYLOAD, headers={"Content-Type": "application/zip"})


def serve(faults: FaultPlan | None = None) -> Any:
    return Sandbox({"echo": EchoApp()}, faults=faults).start()


def test_the_app_reads_json_and_form_bodies_and_a_bad_one_is_its_400():
    with serve() as sb:
        url = sb.url("echo")
        sent = requests.post(f"{url}/json", json={"query": {"a": [1, 2]}}, timeout=5)
        assert sent.json()["got"] == {"query": {"a": [1, 2]}}
        assert sent.json()["raw"] == '{"query": {"a": [1, 2]}}'
        form = requests.post(
            f"{url}/form", data={"grant_type": "x", "assertion": "a.b.c"}, timeout=5
        )
        assert form.json() == {"grant_type": "x", "assertion": "a.b.c"}
        bad = requests.post(f"{url}/json", data=b"{not json", timeout=5)
        assert bad.status_code == 400 and "not JSON" in bad.text


def test_bytes_go_out_unchanged_with_their_own_content_type():
    with serve() as sb:
        reply = requests.get(f"{sb.url('echo')}/file", timeout=5)
    assert reply.content == PAYLOAD
    assert reply.headers["Content-Type"] == "application/zip"
    assert reply.headers["Content-Length"] == str(len(PAYLOAD))


def test_the_truncation_fault_cuts_bytes_bodies_too():
    plan = FaultPlan(rate=1.0, kinds=("truncate",), max_in_a_row=1)
    with serve(plan) as sb:
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            requests.get(f"{sb.url('echo')}/file", timeout=5).content  # noqa: B018
        whole = requests.get(f"{sb.url('echo')}/file", timeout=5)  # never two faults in a row
    assert whole.content == PAYLOAD and sb.faults.injected == ["truncate"]
