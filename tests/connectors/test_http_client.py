"""The shared HTTP client against real local servers: retries, waits, errors, masking, rate limits."""

from __future__ import annotations

import logging
import random
import socket
import string
from email.utils import formatdate
from urllib.parse import quote

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.common.http.auth import ApiTokenAuth, BearerAuth
from connectors.common.http.client import HttpClient
from connectors.common.http.errors import SourceAuthError, SourceError, SourceGone, SourceHTTPError
from connectors.common.http.masking import Masker
from tests.httpserver import Reply, scripted, servers

NOW = 1_750_000_000.0


@pytest.fixture
def serve():
    with servers() as start:
        yield start


def client_for(url: str, waits: list[float] | None = None, **kw) -> HttpClient:
    """A client that records its waits instead of sleeping."""
    kw.setdefault("wall_clock", lambda: NOW)
    return HttpClient("zendesk_eu", url, sleep=(waits if waits is not None else []).append, **kw)


def test_relative_paths_are_joined_to_the_base_url_path(serve):
    server = serve(scripted(Reply(body={"ok": True})))
    client = client_for(server.url + "/api/v2/", headers={"X-Trace": "t1"})
    client.request("GET", "tickets.json", params={"a": "1"})
    client.request("GET", "/users.json")
    assert [s.path for s in server.seen] == ["/api/v2/tickets.json", "/api/v2/users.json"]
    assert server.seen[0].q("a") == "1"
    assert server.seen[0].headers["X-Trace"] == "t1"


def test_absolute_urls_only_to_the_same_origin_or_allowed_hosts():
    client = client_for("https://acme.zendesk.com/api/v2", allowed_hosts=["cdn.zendesk.com"])
    same = "https://acme.zendesk.com:443/api/v2/tickets.json?page=2"
    assert client.url_for(same) == same
    assert client.url_for("https://cdn.zendesk.com/x").startswith("https://cdn.")
    for bad in (
        "https://evil.example/api/v2/tickets.json",
        "http://acme.zendesk.com/api/v2/tickets.json",  # downgrade to plain HTTP
        "https://acme.zendesk.com:8443/api/v2",
        "http://cdn.zendesk.com/x",
        "ftp://acme.zendesk.com/x",
    ):
        with pytest.raises(SourceError, match="refusing to send credentials"):
            client.url_for(bad)


def test_429_honours_retry_after_in_seconds(serve):
    server = serve(
        scripted(Reply(429, {"error": "slow down"}, {"Retry-After": "7"}), Reply(body={"n": 1}))
    )
    waits: list[float] = []
    response = client_for(server.url, waits).request("GET", "/x")
    assert response.json() == {"n": 1}
    assert waits == [7.0]
    assert len(server.seen) == 2


def test_429_honours_retry_after_as_http_date(serve):
    when = formatdate(NOW + 30, usegmt=True)
    server = serve(scripted(Reply(429, {}, {"Retry-After": when}), Reply(body={"n": 1})))
    waits: list[float] = []
    client_for(server.url, waits).request("GET", "/x")
    assert waits == [pytest.approx(30.0)]


def test_retry_after_past_date_retries_at_once(serve):
    when = formatdate(NOW - 100, usegmt=True)
    server = serve(scripted(Reply(503, {}, {"Retry-After": when}), Reply(body={})))
    waits: list[float] = []
    client_for(server.url, waits).request("GET", "/x")
    assert waits == [0.0]


def test_retry_after_longer_than_the_cap_raises_without_waiting(serve):
    server = serve(scripted(Reply(429, {"e": 1}, {"Retry-After": "3600"})))
    waits: list[float] = []
    with pytest.raises(SourceHTTPError, match="max_retry_after") as caught:
        client_for(server.url, waits, max_retry_after=300).request("GET", "/x")
    assert caught.value.status == 429
    assert waits == [] and len(server.seen) == 1


def test_rate_limit_reset_header_counts_only_on_rate_limited_replies(serve):
    server = serve(
        scripted(
            Reply(429, {}, {"X-RateLimit-Reset": str(int(NOW + 12))}),
            Reply(429, {}, {"RateLimit-Reset": "4"}),
            Reply(500, {}, {"X-RateLimit-Reset": str(int(NOW + 3000))}),
            Reply(403, {}, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW + 9))}),
            Reply(body={"ok": 1}),
        )
    )
    waits: list[float] = []
    client_for(server.url, waits, backoff_base=0.25).request("GET", "/x")
    assert waits[0] == pytest.approx(12.0)
    assert waits[1] == 4.0
    assert 0 <= waits[2] <= 1.0  # the 500's reset header is ignored: plain backoff
    assert waits[3] == pytest.approx(9.0)  # GitHub's 403 with no requests remaining


def test_5xx_then_success_with_capped_full_jitter_backoff(serve):
    server = serve(
        scripted(Reply(500), Reply(503), Reply(502), Reply(504), Reply(body={"done": True}))
    )
    waits: list[float] = []
    client = client_for(server.url, waits, backoff_base=1.0, backoff_max=2.5, rng=random.Random(7))
    assert client.request("GET", "/x").json() == {"done": True}
    expected_rng = random.Random(7)
    assert waits == [expected_rng.uniform(0, cap) for cap in (1.0, 2.0, 2.5, 2.5)]
    assert len(server.seen) == 5


def test_connection_refused_then_success(serve):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = []

    def sleep_then_start(seconds: float) -> None:
        if not started:
            started.append(serve(scripted(Reply(body={"up": True})), port=port))

    client = HttpClient("intercom", f"http://127.0.0.1:{port}", sleep=sleep_then_start)
    assert client.request("GET", "/me").json() == {"up": True}
    assert len(started) == 1 and len(started[0].seen) == 1


def test_read_timeout_then_success(serve):
    server = serve(scripted(Reply(body={"slow": 1}, delay=0.6), Reply(body={"fast": 1})))
    waits: list[float] = []
    client = client_for(server.url, waits, timeout=(1.0, 0.15))
    assert client.request("GET", "/x").json() == {"fast": 1}
    assert len(waits) == 1


def test_truncated_json_body_is_retried(serve):
    server = serve(
        scripted(
            Reply(body='{"items": [1, 2'),  # well-framed but cut-short JSON
            Reply(body='{"items": [1, 2, 3]}', declared_length=400),  # connection closes early
            Reply(body={"items": [1, 2, 3]}),
        )
    )
    waits: list[float] = []
    assert client_for(server.url, waits).get_json("/x") == {"items": [1, 2, 3]}
    assert len(waits) == 2 and len(server.seen) == 3


def test_non_json_response_is_not_parsed_unless_expected(serve):
    server = serve(scripted(Reply(body=b"plain bytes")))
    assert client_for(server.url).request("GET", "/f").content == b"plain bytes"


def test_retries_exhausted_raise_source_http_error(serve):
    server = serve(scripted(Reply(503, {"error": "maintenance window"})))
    waits: list[float] = []
    with pytest.raises(SourceHTTPError) as caught:
        client_for(server.url, waits, max_retries=2).request("GET", "/api/tickets")
    err = caught.value
    assert err.status == 503 and err.method == "GET" and err.source == "zendesk_eu"
    assert "failed after 3 attempts" in str(err) and "maintenance window" in str(err)
    assert err.url.endswith("/api/tickets")
    assert len(server.seen) == 3 and len(waits) == 2


def test_other_4xx_fails_at_once(serve):
    server = serve(scripted(Reply(404, {"error": "no such view"})))
    with pytest.raises(SourceHTTPError, match="404") as caught:
        client_for(server.url).request("GET", "/views/9")
    assert caught.value.status == 404 and "no such view" in caught.value.body_excerpt
    assert len(server.seen) == 1


def test_401_names_source_and_credential_and_hides_the_secret(serve):
    secret = "zd-very-secret-token-123"
    server = serve(lambda seen: Reply(401, {"error": "bad token " + secret}))
    auth = BearerAuth(secret, credential_name="ZENDESK_TOKEN")
    with pytest.raises(SourceAuthError) as caught:
        client_for(server.url, auth=auth).request("GET", "/api/v2/tickets")
    text = str(caught.value)
    assert "'zendesk_eu'" in text and "401" in text and "ZENDESK_TOKEN" in text
    assert "/api/v2/tickets" in text
    assert secret not in text and "***" in text
    assert caught.value.status == 401
    assert len(server.seen) == 1  # a static token cannot be refreshed


def test_403_says_the_credential_lacks_permission(serve):
    server = serve(scripted(Reply(403, {"error": "forbidden"})))
    with pytest.raises(SourceAuthError, match="permission") as caught:
        client_for(server.url, auth=BearerAuth("t0ken-abc"), credential="INTERCOM_TOKEN").request(
            "GET", "/admins"
        )
    assert "INTERCOM_TOKEN" in str(caught.value)


def test_410_raises_source_gone_naming_the_endpoint(serve):
    server = serve(scripted(Reply(410, {"error": "gone"})))
    with pytest.raises(SourceGone) as caught:
        client_for(server.url).request("GET", "/api/v1/legacy_reviews", params={"page": 2})
    assert "/api/v1/legacy_reviews" in str(caught.value) and "removed" in str(caught.value)
    assert isinstance(caught.value, SourceHTTPError) and caught.value.status == 410


def test_secrets_are_masked_in_log_lines_and_errors(serve, caplog):
    token = "tok-SECRET-4242"
    api_key = "key/with+odd=chars"
    # The server echoes the query string and the Authorization header, as some APIs do.
    server = serve(
        lambda seen: Reply(
            500, {"echo": seen.query, "auth": seen.headers.get("Authorization"), "t": token}
        )
    )
    auth = ApiTokenAuth("ops@example.com", token)
    client = client_for(server.url, auth=auth, max_retries=2, headers={"X-Api-Key": "hdr-key-999"})
    caplog.set_level(logging.DEBUG)  # urllib3 too: it logs request lines with query strings
    with pytest.raises(SourceHTTPError) as caught:
        client.request("GET", "/search", params={"api_key": api_key, "access_token": token})
    assert server.seen[0].q("api_key") == api_key  # the real values were sent
    messages = [r.getMessage() for r in caplog.records]
    ours = [r.getMessage() for r in caplog.records if r.name == "chorus.http"]
    assert len([m for m in ours if "retry" in m]) == 2
    assert any(
        "/search?api_key=***" in r.getMessage() for r in caplog.records if "urllib3" in r.name
    )
    encoded = auth.secrets()[1]
    for text in [*messages, str(caught.value)]:
        for secret in (token, api_key, "key%2Fwith%2Bodd%3Dchars", encoded, "hdr-key-999"):
            assert secret not in text
    assert "api_key=***" in str(caught.value) and "***" in caught.value.body_excerpt


def test_rate_limit_spaces_requests_per_client(serve):
    server = serve(scripted(Reply(body={})))
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    def clock() -> float:
        return now[0]

    limited = HttpClient("slack", server.url, rate_limit_per_s=4, sleep=sleep, clock=clock)
    for _ in range(5):
        limited.request("GET", "/x")
    assert slept == [pytest.approx(0.25)] * 4
    now[0] += 10  # idle time refills at most `burst` tokens
    slept.clear()
    for _ in range(2):
        limited.request("GET", "/x")
    assert slept == [pytest.approx(0.25)]
    other = HttpClient("zendesk", server.url, rate_limit_per_s=4, sleep=sleep, clock=clock)
    slept.clear()
    other.request("GET", "/x")
    assert slept == []  # buckets are per client, not global


def test_rate_limit_burst_allows_initial_burst(serve):
    server = serve(scripted(Reply(body={})))
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    client = HttpClient(
        "s", server.url, rate_limit_per_s=2, rate_limit_burst=3, sleep=sleep, clock=lambda: now[0]
    )
    for _ in range(5):
        client.request("GET", "/x")
    assert slept == [pytest.approx(0.5), pytest.approx(0.5)]


def test_tls_errors_are_not_retried(serve):
    server = serve(scripted(Reply(body={})))
    waits: list[float] = []
    https_url = server.url.replace("http://", "https://")
    with pytest.raises(SourceHTTPError, match="TLS error"):
        client_for(https_url, waits).request("GET", "/x")
    assert waits == []


def test_uses_an_injected_session(serve):
    server = serve(scripted(Reply(body={})))
    session = requests.Session()
    session.headers["User-Agent"] = "chorus-test"
    HttpClient("s", server.url, session=session).request("GET", "/x")
    assert server.seen[0].headers["User-Agent"] == "chorus-test"


SECRET_CHARS = string.ascii_letters + string.digits + "-_.~+/=%:@ "


@settings(max_examples=150, deadline=None)
@given(
    secrets=st.lists(st.text(SECRET_CHARS, min_size=4, max_size=24), min_size=1, max_size=3),
    noise=st.text(SECRET_CHARS + "&?\"'{}[]\n", max_size=30),
)
def test_masker_never_lets_a_secret_through(secrets, noise):
    masker = Masker(lambda: secrets)
    text = noise.join(
        [
            f"GET https://x.test/a?q={quote(secrets[0], safe='')}",
            f'{{"t": "{secrets[-1]}"}}',
            f"Authorization: Bearer {secrets[0]}",
            *secrets,
        ]
    )
    masked = masker.mask(text)
    for secret in secrets:
        assert secret not in masked
        assert quote(secret, safe="") not in masked


def test_masker_forgets_old_dynamic_values_but_keeps_static_ones():
    masker = Masker(lambda: ["static-secret"])
    masker.add(f"sig-{i:04d}" for i in range(300))
    assert masker.mask("sig-0299 static-secret") == "*** ***"
    assert masker.mask("sig-0000") == "sig-0000"  # bounded memory: only recent values kept


def test_masker_hides_unknown_auth_headers_and_sensitive_pairs():
    text = (
        "Basic authentication required; Authorization: bearer abc.def-123456, Basic dXNlcjpwYXNz; "
        'GET /x?monkey=1&api_key=zz9&token=abc#f client_secret=q&x=1 {"access_token": "t0k"}'
    )
    assert Masker().mask(text) == (
        "Basic authentication required; Authorization: bearer ***, Basic ***; "
        'GET /x?monkey=1&api_key=***&token=***#f client_secret=***&x=1 {"access_token": "***"}'
    )
