"""The declared error policy: what the shared client does with each response, per endpoint.

A policy is a list of ErrorRules: an endpoint declares its own (Endpoint.errors), the client
tries them first, then DEFAULT_POLICY (429/5xx retried with Retry-After, GitHub's exhausted
quota retried at its reset, 401/403 fail naming the credential, 410 fails naming the removed
endpoint, any other error fails at once); the first rule that matches decides, as Airbyte's
low-code manifests declare their error handlers. A response no rule matches is a usable one.

    ErrorRule(Action.END_OF_DATA, status={404}, message="the parent was deleted: no children")
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.common.http.errors import (
    Mask,
    SourceAuthError,
    SourceError,
    SourceGone,
    SourceHTTPError,
    auth_error,
    excerpt,
    gone_error,
    http_error,
)
from connectors.common.http.paginators import dig
from connectors.common.http.ratelimit import RETRYABLE_STATUS, quota_exhausted


class Action(StrEnum):
    """What the client does with a response an ErrorRule matches."""

    RETRY = "retry"  # transient: wait (the server's Retry-After, else backoff) and ask again
    IGNORE = "ignore"  # read it as a page without records; paging goes on (logged as a warning)
    END_OF_DATA = "end_of_data"  # read it as a page without records, and the last one
    FAIL = "fail"  # raise `error`, its message naming what to fix


@dataclass(frozen=True)
class ErrorRule:
    """When a response matches, what the client does with it.

    Every condition given must hold: `status` (one of these; empty: any), `body` (each dotted
    key of the JSON body holds the value, or one of a set of values), `when` (a predicate over
    the response, for what neither says). `message` says what the response means; for FAIL it
    is the error's text after "source 'name': ", a template over {status} {reason} {method}
    {url} {path} {credential} and {body[key]} (empty: the standard text of `error`).
    `report_status`: the status the error carries when not the response's own (Slack answers
    a revoked token with 200 {"ok": false, "error": "token_revoked"}: a 401).
    """

    action: Action
    status: Collection[int] = ()
    body: Mapping[str, Any] | None = None
    when: Callable[[requests.Response], bool] | None = None
    message: str = ""
    error: type[SourceError] = SourceHTTPError
    report_status: int | None = None

    def matches(self, response: requests.Response) -> bool:
        if self.status and response.status_code not in self.status:
            return False
        if self.body is not None and not _body_holds(response, self.body):
            return False
        return self.when is None or self.when(response)


def _body_holds(response: requests.Response, wanted: Mapping[str, Any]) -> bool:
    """Each dotted key of the JSON body holds its value (of the same type: False is not 0), or
    one of a set of values; False for a body that is not JSON."""
    try:
        body = response.json()
    except ValueError:
        return False
    for key, value in wanted.items():
        found = dig(body, key)
        if isinstance(value, set | frozenset):
            if isinstance(found, list | dict) or found not in value:
                return False
        elif type(found) is not type(value) or found != value:
            return False
    return True


def not_json(response: requests.Response) -> bool:
    """The body is empty or no JSON document at all (an HTML page), not a cut-off JSON one."""
    return response.content.strip()[:1] not in (b"{", b"[")


DEFAULT_POLICY: tuple[ErrorRule, ...] = (
    ErrorRule(Action.RETRY, status=RETRYABLE_STATUS),  # 429, 5xx: after Retry-After if given
    ErrorRule(Action.RETRY, status={403}, when=quota_exhausted),  # GitHub: at X-RateLimit-Reset
    ErrorRule(Action.FAIL, status={401, 403}, error=SourceAuthError),  # names the credential
    ErrorRule(Action.FAIL, status={410}, error=SourceGone),  # the vendor removed the endpoint
    ErrorRule(Action.FAIL, status=range(400, 1000)),  # any other error: retrying cannot help
)


def rule_for(response: requests.Response, rules: Iterable[ErrorRule] = ()) -> ErrorRule | None:
    """The first of `rules`, then of DEFAULT_POLICY, matching the response; None: no rule does
    (a usable response)."""
    for rule in (*rules, *DEFAULT_POLICY):
        if rule.matches(response):
            return rule
    return None


class _Fields(dict):
    """Template fields: a name it lacks (a key the body lacks) reads as "?", not a KeyError."""

    def __missing__(self, key: str) -> str:
        return "?"


def failure(
    rule: ErrorRule,
    source: str,
    response: requests.Response,
    method: str,
    url: str,
    *,
    hint: str,
    credential: str | None,
    mask: Mask,
) -> SourceError:
    """The error a FAIL rule raises for a response: its message, or the standard one of its type."""
    status, body = response.status_code, response.text
    if not rule.message:
        if issubclass(rule.error, SourceAuthError):
            return auth_error(
                source,
                status,
                response.reason,
                method,
                url,
                body,
                hint=hint,
                credential=credential,
                mask=mask,
            )
        if issubclass(rule.error, SourceGone):
            return gone_error(source, method, url, body, mask=mask)
        what = f"{status} {response.reason} from {method} {url}"
        return http_error(source, what, status, method, url, body, mask=mask)
    try:
        parsed = response.json()
    except ValueError:
        parsed = None
    fields = _Fields(
        status=status,
        reason=response.reason,
        method=method,
        url=url,
        path=urlsplit(url).path,
        credential=hint,
        body=_Fields(parsed if isinstance(parsed, dict) else {}),
    )
    message = mask(f"source {source!r}: " + rule.message.format_map(fields))
    reported = rule.report_status or status
    if issubclass(rule.error, SourceAuthError):
        return rule.error(message, source=source, status=reported, credential=credential)
    if issubclass(rule.error, SourceHTTPError):
        return rule.error(
            message,
            source=source,
            status=reported,
            method=method,
            url=url,
            body_excerpt=excerpt(body, mask),
        )
    return rule.error(message, source=source)
