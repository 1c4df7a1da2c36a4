"""The shared HTTP client: auth, timeouts, retries with backoff, rate limits, pagination, masking.

What it does with each response (retry, ignore, end the data, fail naming what to fix) is the
declared error policy of connectors/common/http/error_policy.py: an endpoint's own rules, then
the default ones.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

import orjson
import requests

from connectors.common.http.auth import AuthStrategy
from connectors.common.http.error_policy import Action, ErrorRule, failure, rule_for
from connectors.common.http.errors import (
    PaginationLoopError,
    SourceAuthError,
    SourceError,
    SourceHTTPError,
    TokenRequestError,
    auth_error,
    http_error,
)
from connectors.common.http.masking import (
    Masker,
    SecretMaskingFilter,
    masking_logger,
    sensitive_header_values,
    sensitive_values,
)
from connectors.common.http.paginators import Paginator, Selector, expand_path, select
from connectors.common.http.ratelimit import (
    RETRYABLE_STATUS,
    TokenBucket,
    full_jitter,
    server_wait,
)
from connectors.common.jsonexact import may_hold_long_integer

_URLLIB3_LOGGER = "urllib3.connectionpool"  # logs request lines, query strings included
_RETRYABLE_EXC = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@dataclass
class Page:
    """One fetched page: its records, the raw response, and the token to resume at the next page."""

    records: list[Any]
    response: requests.Response
    token: dict[str, Any] | None


class HttpClient:
    """One source's HTTP client; every connector talks to its vendor through one of these."""

    def __init__(
        self,
        source: str,
        base_url: str,
        auth: AuthStrategy | None = None,
        *,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        max_retries: int = 6,
        backoff_base: float = 0.5,
        backoff_max: float = 60.0,
        max_retry_after: float = 300.0,
        rate_limit_per_s: float | None = None,
        rate_limit_burst: float = 1.0,
        headers: dict[str, str] | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        allowed_hosts: Iterable[str] = (),
        credential: str | None = None,
        extra_secrets: Iterable[str] = (),
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.headers = dict(headers or {})
        self.credential = credential
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self._owns_session = session is None
        self._session = session or requests.Session()
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._bucket = (
            TokenBucket(rate_limit_per_s, burst=rate_limit_burst, clock=clock, sleep=sleep)
            if rate_limit_per_s
            else None
        )
        self.masker = Masker(self._auth_secrets, extra=[*extra_secrets])
        self.masker.add(sensitive_header_values(self.headers))
        self._logger = logging.getLogger("chorus.http")

    def _auth_secrets(self) -> list[str]:
        return self.auth.secrets() if self.auth else []

    def _log(self, level: int, msg: str, *args: Any) -> None:
        if self._logger.isEnabledFor(level):
            text = self.masker.mask(msg % args if args else msg)
            self._logger.log(level, text, extra={"source": self.source})

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url_for(self, path_or_url: str) -> str:
        """A relative path joined to base_url, or an absolute URL on base_url's origin or allowed_hosts."""
        parts = urlsplit(path_or_url)
        if not (parts.scheme or parts.netloc):
            return f"{self.base_url}/{path_or_url.lstrip('/')}" if path_or_url else self.base_url
        base = urlsplit(self.base_url)
        host = (parts.hostname or "").lower()
        if parts.scheme in ("http", "https") and (
            _origin(parts) == _origin(base)
            or (
                host in self.allowed_hosts
                and not (base.scheme == "https" and parts.scheme != "https")
            )
        ):
            return path_or_url
        raise SourceError(
            f"source {self.source!r}: refusing to send credentials to "
            f"{self.masker.mask(path_or_url)}: not the origin of base_url {self.base_url}; "
            "add the host to allowed_hosts if it is trusted",
            source=self.source,
        )

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        expect_json: bool | None = None,
        errors: Sequence[ErrorRule] = (),
    ) -> requests.Response:
        """Send with auth, rate limit and retries; raise a SourceError when it cannot succeed.

        expect_json: True retries an unparsable body, False never checks, None checks when the
        response says it is JSON. errors: rules tried before the default policy; a response
        they IGNORE or end the data with is returned as it is.
        """
        return self.send(
            method,
            path_or_url,
            params=params,
            json=json,
            data=data,
            headers=headers,
            expect_json=expect_json,
            errors=errors,
        )[0]

    def send(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        expect_json: bool | None = None,
        errors: Sequence[ErrorRule] = (),
    ) -> tuple[requests.Response, ErrorRule | None]:
        """`request`, also giving the rule that let the response through: None for a usable
        one, an IGNORE or END_OF_DATA rule for one to read as a page without records."""
        for mapping in (params, json, data):
            self.masker.add(sensitive_values(mapping))
        self.masker.add(sensitive_header_values(headers or {}))
        method, url = method.upper(), self.url_for(path_or_url)
        shown = self.masker.mask(requests.Request(method, url, params=params).prepare().url)
        send = {"params": params, "json": json, "data": data, "auth": self.auth}
        send["headers"] = {**self.headers, **(headers or {})}
        refreshed, attempt = False, 0
        while True:
            if self._bucket is not None and (waited := self._bucket.acquire()):
                self._log(
                    logging.DEBUG, "source %r: rate limited, waited %.3fs", self.source, waited
                )
            response: requests.Response | None = None
            try:
                with masking_logger(_URLLIB3_LOGGER, SecretMaskingFilter(self.masker)):
                    response = self._session.request(method, url, timeout=self.timeout, **send)
            except TokenRequestError as exc:
                if exc.status not in RETRYABLE_STATUS:
                    hint = "token request failed"
                    raise self._auth_error(exc.status, hint, method, shown, str(exc)) from None
                reason = str(exc)
            except requests.exceptions.SSLError as exc:
                raise self._http_error(f"TLS error: {exc}", None, method, shown) from None
            except _RETRYABLE_EXC as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                _parse_once(response)
                self._log(
                    logging.DEBUG,
                    "source %r: %s %s -> %d",
                    self.source,
                    method,
                    shown,
                    response.status_code,
                )
                if (
                    response.status_code == 401
                    and not refreshed
                    and self.auth
                    and self.auth.refresh()
                ):
                    refreshed = True
                    self._log(logging.INFO, "source %r: 401, refreshing the token", self.source)
                    continue
                rule, reason = self._judge(response, expect_json, errors, method, shown)
                if reason is None:
                    return response, rule
            if attempt >= self.max_retries:
                what = f"{method} {shown} failed after {attempt + 1} attempts; last: {reason}"
                raise self._http_error(what, response, method, shown)
            wait = self._retry_wait(attempt, response, method, shown)
            attempt += 1
            self._log(
                logging.WARNING,
                "source %r: %s on %s %s; retry %d/%d in %.2fs",
                *(self.source, reason, method, shown, attempt, self.max_retries, wait),
            )
            self._sleep(wait)

    def _judge(
        self,
        response: requests.Response,
        expect_json: bool | None,
        errors: Sequence[ErrorRule],
        method: str,
        shown: str,
    ) -> tuple[ErrorRule | None, str | None]:
        """The policy's verdict: (None, None) a usable response; (rule, None) one to read as a
        page without records (IGNORE, END_OF_DATA); (rule or None, why) one to retry; or the
        error a FAIL rule raises."""
        rule = rule_for(response, errors)
        if rule is None:  # usable, unless its JSON body was cut short
            if self._is_truncated(response, expect_json):
                return None, f"{response.status_code} with an unparsable (truncated?) JSON body"
            return None, None
        if rule.action is Action.RETRY:
            why = f" ({rule.message})" if rule.message else ""
            return rule, f"{response.status_code} {response.reason}{why}"
        if rule.action is Action.FAIL:
            raise failure(
                rule,
                self.source,
                response,
                method,
                shown,
                hint=self._credential_hint(),
                credential=self.credential,
                mask=self.masker.mask,
            )
        self._log(
            logging.WARNING if rule.action is Action.IGNORE else logging.INFO,
            "source %r: %s %s answered %d; %s",
            *(self.source, method, shown, response.status_code),
            rule.message or f"{rule.action}: read as a page without records",
        )
        return rule, None

    def get_json(self, path_or_url: str, *, params: dict[str, Any] | None = None) -> Any:
        """GET and parse JSON, retrying a truncated body."""
        return self.request("GET", path_or_url, params=params, expect_json=True).json()

    def paginate(
        self,
        path: str,
        paginator: Paginator,
        *,
        params: dict[str, Any] | None = None,
        records: Selector | None = None,
        resume: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        max_pages: int | None = None,
        errors: Sequence[ErrorRule] = (),
    ) -> Iterator[Page]:
        """Yield every page from the first (or from `resume`, a Page.token) to the last.

        `path` may hold "{name}" placeholders filled from the params (Apple's RSS "page={page}").
        `records` is a dotted path or a callable over the body; None means the body is the list.
        A paginator whose `method` is not GET has its requests sent as JSON bodies to `path`.
        `errors`: the endpoint's error rules; a response one IGNOREs is a page without records
        (the paginator decides what comes next), one that ends the data is the last page.
        """
        nxt = (
            paginator.resume(resume)
            if resume is not None
            else paginator.first_request(dict(params or {}))
        )
        pages = 0
        while nxt is not None:
            if max_pages is not None and pages >= max_pages:
                return
            current: dict[str, Any] = {} if isinstance(nxt, str) else nxt
            if isinstance(nxt, str):
                method, target, carries = "GET", nxt, {}
            elif paginator.method != "GET":
                method, target, carries = paginator.method, path, {"json": nxt}
            else:
                target, query = expand_path(path, nxt)
                method, carries = "GET", {"params": query}
            response, rule = self.send(
                method, target, headers=headers, expect_json=True, errors=errors, **carries
            )
            if rule is not None and rule.action is Action.END_OF_DATA:
                yield Page(records=[], response=response, token=None)
                return
            page_records = [] if rule is not None else self._records(response, records)
            try:
                nxt = paginator.next_request(response, page_records, current)
            except PaginationLoopError as exc:
                raise PaginationLoopError(
                    f"source {self.source!r}: {self.masker.mask(exc)} "
                    f"(after {self.masker.mask(response.url)})",
                    source=self.source,
                ) from None
            pages += 1
            yield Page(records=page_records, response=response, token=paginator.token())

    def _records(self, response: requests.Response, selector: Selector | None) -> list[Any]:
        body = response.json()
        if isinstance(selector, str) and not (
            isinstance(body, dict)
            or (isinstance(body, list) and selector.split(".")[0].lstrip("-").isdigit())
        ):  # an error page or garbage with 200 must not pass for an empty last page
            raise SourceError(
                f"source {self.source!r}: expected a JSON object with {selector!r} in the body "
                f"of {self.masker.mask(response.url)}, got {type(body).__name__}",
                source=self.source,
            )
        found = body if selector is None else select(body, selector)
        if found is None:
            return []
        if not isinstance(found, list):
            raise SourceError(
                f"source {self.source!r}: expected a list of records at {selector!r} in the body "
                f"of {self.masker.mask(response.url)}, got {type(found).__name__}",
                source=self.source,
            )
        return found

    @staticmethod
    def _is_truncated(response: requests.Response, expect_json: bool | None) -> bool:
        if expect_json is False or response.status_code == 204:
            return False
        if expect_json is None:
            kind = response.headers.get("Content-Type", "").lower()
            if "json" not in kind or not response.content.strip():
                return False
        try:
            response.json()
        except ValueError:
            return True
        return False

    def _retry_wait(
        self, attempt: int, response: requests.Response | None, method: str, shown: str
    ) -> float:
        """The server's wait when it gives one (capped by max_retry_after), else jittered backoff."""
        asked = server_wait(response, self._wall_clock()) if response is not None else None
        if asked is None:
            return full_jitter(attempt, self.backoff_base, self.backoff_max, self._rng)
        if asked > self.max_retry_after:
            raise self._http_error(
                f"{method} {shown}: the server asks to wait {asked:.0f}s, more than "
                f"max_retry_after={self.max_retry_after:.0f}s",
                response,
                method,
                shown,
            )
        return asked

    def _credential_hint(self) -> str:
        if self.credential:
            return f"the credential {self.credential!r}"
        if self.auth is not None:
            return self.auth.describe()
        return "the credential (none is configured for this source)"

    def _auth_error(
        self, status: int | None, reason: str, method: str, shown: str, body: str
    ) -> SourceAuthError:
        return auth_error(
            self.source,
            status,
            reason,
            method,
            shown,
            body,
            hint=self._credential_hint(),
            credential=self.credential,
            mask=self.masker.mask,
        )

    def _http_error(
        self, what: str, response: requests.Response | None, method: str, shown: str
    ) -> SourceHTTPError:
        status = response.status_code if response is not None else None
        body = response.text if response is not None else ""
        return http_error(self.source, what, status, method, shown, body, mask=self.masker.mask)


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    """Scheme, host and port with the scheme's default port filled in."""
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _parse_once(response: requests.Response) -> None:
    """`response.json()` parses the body once (orjson) and hands the same object to every caller:
    the truncation check, the records selector and the paginator each used to parse it again."""
    plain = response.json
    parsed: list[Any] = []

    def json(**kwargs: Any) -> Any:
        if kwargs:
            return plain(**kwargs)
        if not parsed:
            body = response.content
            try:
                if may_hold_long_integer(body):  # orjson turns > 64-bit ints into floats
                    raise orjson.JSONDecodeError("long number", "", 0)
                parsed.append(orjson.loads(body))
            except orjson.JSONDecodeError:
                parsed.append(plain())  # raises requests' own error, or handles what orjson cannot
        return parsed[0]

    response.json = json  # type: ignore[method-assign]
