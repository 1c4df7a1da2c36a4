"""A connector declared as data: a table of endpoints; the shared client does HTTP and paging.

State per endpoint, under state["endpoints"][name]:
  "cursor": the committed incremental cursor, written once the endpoint's run finished;
  "run":    present mid-run only: the paginator token of the next page ("next"), whether the
            last page was read ("done"), the pending cursor, and the child fetches still owed
            for the records already landed ("children": [{"params", "context", "resume"}]).
Every batch carries the state that points just past its items, so resuming from the last
committed batch neither skips nor repeats an item.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from connectors.common.base import Connector, FetchedBatch, ParseError, parse_timestamp
from connectors.common.http.auth import AuthStrategy
from connectors.common.http.client import HttpClient
from connectors.common.http.error_policy import Action, ErrorRule
from connectors.common.http.errors import SourceAuthError, SourceError
from connectors.common.http.paginators import Paginator, Selector
from connectors.common.incremental import Incremental, epoch_of
from schemas.feedback import CANONICAL_INPUT_NAMES

DELETED_TAG = "chorus:deleted"  # rows carrying it retire the item downstream instead of showing it
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# a child endpoint's default: its parent was deleted since the parent page listed it
PARENT_GONE = ErrorRule(
    Action.END_OF_DATA, status={404}, message="the parent is gone (deleted meanwhile): no children"
)


class RestOptions(BaseModel):
    """Options every REST connector accepts; vendors subclass to add their own keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    page_size: int | None = Field(default=None, ge=1)
    start_date: datetime | None = None  # first run only: how far back to read
    endpoints: list[str] | None = None  # default: every endpoint the connector declares
    timeout_s: float = Field(default=30.0, gt=0)
    rate_limit_per_s: float | None = Field(default=None, gt=0)


@dataclass(frozen=True)
class ChildEndpoint:
    """Records fetched per parent record (a ticket's comments), after the parent page landed."""

    name: str
    path: str  # with "{placeholders}" filled from parent_params
    records: Selector | None
    paginator: Callable[[], Paginator]
    parent_params: Callable[[dict[str, Any]], dict[str, Any]]
    context: Callable[[dict[str, Any]], dict[str, Any]] = lambda parent: {}  # kept on items
    applies: Callable[[dict[str, Any]], bool] = lambda parent: True
    params: dict[str, Any] = field(default_factory=dict)
    page_size_param: str | None = None
    since_field: str | None = None  # child records at or before the parent's `since` are old
    errors: tuple[ErrorRule, ...] = (PARENT_GONE,)  # tried before the client's default policy
    dedupe_key: Callable[[dict[str, Any]], Hashable] | None = None  # within one run
    docs_url: str = ""

    def is_new(self, record: dict[str, Any], since: float | None) -> bool:
        """True unless the record predates what an earlier run already fetched."""
        if since is None or not self.since_field or not record.get(self.since_field):
            return True
        return epoch_of(record[self.since_field]) > since


@dataclass(frozen=True)
class Endpoint:
    """One API resource: where it lives, how it pages, how it is incremental, what it spawns."""

    name: str
    path: str
    records: Selector | None
    paginator: Callable[[], Paginator]
    params: dict[str, Any] = field(default_factory=dict)
    page_size_param: str | None = None
    incremental: Incremental = field(default_factory=Incremental)
    dedupe_key: Callable[[dict[str, Any]], Hashable] | None = None  # within one run
    child: ChildEndpoint | None = None
    errors: tuple[ErrorRule, ...] = ()  # tried before the client's default policy
    docs_url: str = ""


class RestConnector(Connector):
    """Subclasses declare DEFAULT_BASE_URL, ENDPOINTS, `auth()` and one `parse_<endpoint>` each.

    "{option}" placeholders in DEFAULT_BASE_URL, in HEADERS values and in endpoint paths are
    filled from this source's options ("https://{subdomain}.zendesk.com", "forms/{form_id}").
    """

    DEFAULT_BASE_URL: ClassVar[str] = ""
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = ()
    HEADERS: ClassVar[dict[str, str]] = {}  # sent with every request: API version pins, Accept
    ENDPOINTS_HINT: ClassVar[str] = ""  # how to choose endpoints, when they come from options
    client_class: ClassVar[type[HttpClient]] = HttpClient
    Options = RestOptions

    def __init__(
        self, source: Any, *, resolve_path: Any = None, http: dict[str, Any] | None = None
    ) -> None:
        super().__init__(source, resolve_path=resolve_path)
        self._http = dict(http or {})  # extra HttpClient kwargs (tests: sleep, timeout)

    # -- configuration ----------------------------------------------------------------------

    def declared_endpoints(self) -> list[Endpoint]:
        """Every endpoint this source can read: ENDPOINTS, or one per configured channel/country."""
        return list(self.ENDPOINTS)

    def endpoints(self) -> list[Endpoint]:
        """The declared endpoints, narrowed by the `endpoints` option, configured for this source."""
        declared = self.declared_endpoints()
        wanted = self.options.endpoints
        known = [e.name for e in declared]
        unknown = sorted(set(wanted or ()) - set(known))
        if unknown:
            hint = f" ({self.ENDPOINTS_HINT})" if self.ENDPOINTS_HINT else ""
            raise SourceError(
                f"source {self.name!r}: endpoints {unknown} are unknown; known: {known}{hint}",
                source=self.name,
            )
        return [self.configure_endpoint(e) for e in declared if wanted is None or e.name in wanted]

    def configure_endpoint(self, ep: Endpoint) -> Endpoint:
        """The endpoint for this source: "{option}" placeholders in its path filled (URL-quoted).

        Vendors override it to add what their options decide (params, a record filter).
        """
        return replace(ep, path=self.filled(ep.path, quoted=True))

    def filled(self, template: str, *, quoted: bool = False, **extra: Any) -> str:
        """`template` with "{name}" filled from the options (and `extra`); others left as they are."""
        values = {k: v for k, v in self.options.model_dump().items() if v is not None}
        values.update(extra)

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                return match.group(0)
            text = str(values[name])
            return quote(text, safe="") if quoted else text

        return _PLACEHOLDER.sub(value, template)

    def base_url(self) -> str:
        """source.base_url (sandbox, proxy) or the vendor's API URL filled from the options."""
        if self.source.base_url:
            return str(self.source.base_url)
        url = self.filled(self.DEFAULT_BASE_URL)
        if url and not _PLACEHOLDER.search(url):
            return url
        raise SourceError(
            f"source {self.name!r}: no base_url; set base_url, or the options that fill "
            f"{self.DEFAULT_BASE_URL!r}",
            source=self.name,
        )

    def headers(self) -> dict[str, str]:
        """HEADERS with their "{option}" placeholders filled."""
        return {name: self.filled(value) for name, value in self.HEADERS.items()}

    def credential_name(self, key: str) -> str:
        """How an operator finds a credential: "credentials.api_token (env var ZD_TOKEN)"."""
        ref = self.source.credentials.get(key)
        return f"credentials.{key} ({ref.describe()})" if ref else f"credentials.{key}"

    def secret(self, key: str) -> str:
        """The resolved value of credentials[key]; SourceAuthError naming it when unavailable."""
        ref = self.source.credentials.get(key)
        if ref is None:
            raise SourceAuthError(
                f"source {self.name!r}: credentials.{key} is not configured; "
                "give it as {env: VAR} or {block: NAME}",
                source=self.name,
                credential=f"credentials.{key}",
            )
        try:
            return ref.resolve()
        except (ValueError, LookupError, OSError) as exc:
            raise SourceAuthError(
                f"source {self.name!r}: cannot read {self.credential_name(key)}: {exc}",
                source=self.name,
                credential=self.credential_name(key),
            ) from None

    def auth(self) -> tuple[AuthStrategy | None, str | None]:
        """The auth strategy and the credential a 401 should name."""
        return None, None

    def client(self) -> HttpClient:
        """This source's HttpClient (a `client_class`), sending HEADERS on every request."""
        auth, credential = self.auth()
        kwargs: dict[str, Any] = {
            "timeout": (min(10.0, self.options.timeout_s), self.options.timeout_s),
            "rate_limit_per_s": self.options.rate_limit_per_s,
            "headers": self.headers(),
            **self._http,
        }
        return self.client_class(self.name, self.base_url(), auth, credential=credential, **kwargs)

    def start_epoch(self) -> int:
        """Epoch seconds the first run reads from (the `start_date` option, else 0)."""
        start = self.options.start_date
        return int(parse_timestamp(start).timestamp()) if start else 0

    # -- fetching ---------------------------------------------------------------------------

    def fetch(self, state: dict[str, Any]) -> Iterator[FetchedBatch]:
        state = json.loads(json.dumps(state or {}))
        state.setdefault("endpoints", {})
        seen: set[Hashable] = set()
        with self.client() as client:
            for endpoint in self.endpoints():
                committed = state["endpoints"].get(endpoint.name, {}).get("cursor")
                bound = self.bind_cursor(endpoint, committed)
                yield from self._endpoint_batches(client, bound, state, seen)

    def bind_cursor(self, endpoint: Endpoint, committed: Any) -> Endpoint:
        """The endpoint as this run reads it, given its committed cursor (default: as declared)."""
        return endpoint

    def _size(self, param: str | None) -> dict[str, Any]:
        return {param: self.options.page_size} if param and self.options.page_size else {}

    def _endpoint_batches(
        self, client: HttpClient, ep: Endpoint, state: dict[str, Any], seen: set[Hashable]
    ) -> Iterator[FetchedBatch]:
        es = state["endpoints"].setdefault(ep.name, {})
        committed = es.get("cursor")
        run = es.get("run")
        if run is None:
            run = {"next": None, "done": False, "cursor": committed, "children": []}
            first = ep.incremental.first_params(committed, self.start_epoch())
            params = {**ep.params, **self._size(ep.page_size_param), **first}
            pages = client.paginate(
                ep.path, ep.paginator(), params=params, records=ep.records, errors=ep.errors
            )
        else:
            yield from self._child_batches(client, ep, state, es, run, committed, seen)
            resume = run["next"]
            pages = (
                iter(())
                if run["done"]
                else client.paginate(
                    ep.path, ep.paginator(), records=ep.records, resume=resume, errors=ep.errors
                )
            )
        for page in pages:
            fresh = [
                r
                for r in page.records
                if ep.incremental.is_new(committed, r) and self._first_sighting(ep, r, seen)
            ]
            children = []
            if ep.child is not None:
                children = [
                    {"params": ep.child.parent_params(r), "context": ep.child.context(r)}
                    for r in fresh
                    if ep.child.applies(r)
                ]
            run = {
                "next": page.token,
                "done": page.token is None,
                "cursor": ep.incremental.advance(run["cursor"], page),
                "children": children,
            }
            items = [{**r, "_endpoint": ep.name} for r in fresh]
            yield self._batch(state, es, run, items, {"endpoint": ep.name})
            yield from self._child_batches(client, ep, state, es, run, committed, seen)
        if "run" in es and run["done"] and not run["children"]:
            yield self._batch(state, es, run, [], {"endpoint": ep.name})

    def _first_sighting(
        self, ep: Endpoint | ChildEndpoint, record: dict[str, Any], seen: set[Hashable]
    ) -> bool:
        if ep.dedupe_key is None:
            return True
        key = (ep.name, ep.dedupe_key(record))
        if key in seen:
            return False
        seen.add(key)
        return True

    def _child_batches(
        self,
        client: HttpClient,
        ep: Endpoint,
        state: dict[str, Any],
        es: dict[str, Any],
        run: dict[str, Any],
        committed: Any,
        seen: set[Hashable],
    ) -> Iterator[FetchedBatch]:
        child = ep.child
        since = ep.incremental.since(committed)
        while child is not None and run["children"]:
            job = run["children"][0]
            params = {**child.params, **self._size(child.page_size_param), **job["params"]}
            meta = {"endpoint": child.name, "parent": job["params"]}
            pages = client.paginate(
                child.path,
                child.paginator(),
                params=params,
                records=child.records,
                resume=job.get("resume"),
                errors=child.errors,
            )
            for page in pages:
                items = [
                    {**r, "_endpoint": child.name, "_parent": job["context"]}
                    for r in page.records
                    if child.is_new(r, since) and self._first_sighting(child, r, seen)
                ]
                if page.token is None:
                    run["children"].pop(0)
                else:
                    job["resume"] = page.token
                yield self._batch(state, es, run, items, meta)

    @staticmethod
    def _batch(
        state: dict[str, Any],
        es: dict[str, Any],
        run: dict[str, Any],
        items: list[dict[str, Any]],
        meta: dict[str, Any],
    ) -> FetchedBatch:
        """A batch whose state points just past its items; commits the cursor when all is read."""
        if run["done"] and not run["children"]:
            es.pop("run", None)
            es["cursor"] = run["cursor"]
        else:
            es["run"] = run
        return FetchedBatch(items=items, state=json.loads(json.dumps(state)), meta=meta)

    # -- parsing ----------------------------------------------------------------------------

    def parse(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        name = item.get("_endpoint")
        parser = getattr(self, f"parse_{name}", None) if isinstance(name, str) else None
        if parser is None:
            known = [e.name for e in self.ENDPOINTS] + [
                e.child.name for e in self.ENDPOINTS if e.child
            ]
            raise ParseError(f"item has _endpoint {name!r}; expected one of {known}")
        return parser(item)

    def row(self, **fields: Any) -> dict[str, Any]:
        """A canonical row: source and kind filled in, every other input column defaulted."""
        out: dict[str, Any] = dict.fromkeys(CANONICAL_INPUT_NAMES)
        out.update(source=self.name, source_kind=self.kind, tags=[], text="", is_internal=False)
        unknown = sorted(set(fields) - set(CANONICAL_INPUT_NAMES))
        if unknown:
            raise ValueError(f"not canonical columns: {unknown}")
        out.update(fields)
        if out["updated_at"] is None:
            out["updated_at"] = out["created_at"]
        return out


def required(item: dict[str, Any], key: str, what: str) -> Any:
    """item[key], or a ParseError naming what is missing."""
    value = item.get(key)
    if value is None or value == "":
        raise ParseError(f"{what}: {key} is missing")
    return value
