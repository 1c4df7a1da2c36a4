"""`chorus serve`: an ASGI app that takes signed vendor webhooks and lands them in the raw zone.

POST /webhooks/<source name> for sources of type zendesk, intercom, typeform, github and slack
(connectors.common.registry.WEBHOOKS) that have a `webhook_secret`; GET /healthz for probes.
Each vendor's signature scheme and payload mapping live in connectors/<vendor>/webhook.py;
this module routes, limits, verifies with them, remembers deliveries and lands. A delivery is
checked in this order:

  405  not a POST (Allow: POST)
  404  no such source, a type that takes no webhooks, or no webhook_secret configured
  413  body above `webhooks.max_body_bytes` (by Content-Length, and counted while streaming)
  503  the source's secret cannot be read (env var unset, Prefect block missing)
  401  signature header missing or wrong, signed timestamp missing or stale (Zendesk, Slack:
       outside `webhooks.tolerance_s`); the JSON error names the header, never the secret
  400  a verified body that is not a JSON object
  200  a vendor's handshake, answered as it asks (Slack url_verification: {"challenge": ...})
  200  a replay: the delivery id (or the signature) was accepted within
       `webhooks.replay_window_s`: {"duplicate": true, "batch_id": <the first landing>},
       nothing landed again. 2xx on purpose: vendors resend what got no 2xx (Slack, Typeform,
       Intercom) and pause endpoints that answer mostly errors (Zendesk's circuit breaker,
       Slack's failure-rate limit), so a resend of a delivery we already hold must get a 2xx;
       a captured delivery replayed by someone else lands nothing all the same.
  200  verified, but no feedback in it (ping, bot message, other repository ...):
       {"ignored": <reason>, "items": 0}, logged with the reason
  202  landed: {"batch_id": ..., "items": n}; the "chorus.batch.landed" event is emitted
       after the answer, exactly as ingest emits it
  503  the lake could not be written (the vendor retries; nothing was recorded)

Accepted ids live in the lake state "webhooks/<source>" (pruned by age), so a restarted
receiver still knows them. Landing only writes raw: processing picks the batch up later, so
nothing is lost while processing is down.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.common.base import batch_id_for
from connectors.common.registry import WEBHOOKS, connector_class
from connectors.common.webhooks import Mapped, Refused, Webhook, webhook_for
from flows.lake.store import Lake
from flows.runtime.config import ChorusConfig, SourceConfig, load_config
from flows.runtime.events import emit

log = logging.getLogger("chorus.webhooks")
SECRET_TTL_S = 60.0  # a rotated secret is picked up within a minute
READ_TTL_S = 600.0  # what a vendor's mapping reads from its API (Typeform form definitions)
FAILED_READ_TTL_S = 60.0  # a read that failed is not tried again for a minute
# a vendor API read while a delivery waits (Typeform definitions): few, short retries
QUICK_HTTP = {"max_retries": 1, "backoff_max": 2.0, "max_retry_after": 5.0, "timeout": (5.0, 10.0)}
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]  # 405 but POST


class Receiver:
    """The webhook sources of one config, their connectors, secrets and accepted deliveries."""

    def __init__(self, cfg: ChorusConfig) -> None:
        self.cfg = cfg
        self.lake = Lake(cfg.lake_url)
        self.limits = cfg.webhooks
        self.sources: dict[str, SourceConfig] = {s.name: s for s in cfg.sources}
        self.connectors = {
            s.name: connector_class(s.type)(s, resolve_path=cfg.resolve, http=QUICK_HTTP)
            for s in cfg.sources
            if s.type in WEBHOOKS and s.webhook_secret is not None
        }
        self.webhooks: dict[str, Webhook] = {
            name: webhook_for(self.sources[name].type) for name in self.connectors
        }
        self._secrets: dict[str, tuple[str, float]] = {}
        self._reads: dict[tuple[str, str], tuple[Any, float]] = {}
        self._locks = {name: threading.Lock() for name in self.connectors}

    # -- which source ---------------------------------------------------------------------

    def source(self, name: str) -> SourceConfig:
        src = self.sources.get(name)
        if src is None:
            raise Refused(404, "unknown_source", f"no source named {name!r}")
        if src.type not in WEBHOOKS:
            raise Refused(
                404,
                "no_webhooks",
                f"source {name!r} is of type {src.type!r}, which takes no webhooks; "
                f"webhook types: {', '.join(WEBHOOKS)}",
            )
        if src.webhook_secret is None:
            raise Refused(404, "no_webhooks", f"source {name!r} has no webhook_secret configured")
        return src

    def secret(self, src: SourceConfig) -> str:
        """The resolved webhook secret (cached briefly); 503 when it cannot be read."""
        cached = self._secrets.get(src.name)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        ref = src.webhook_secret
        assert ref is not None
        try:
            value = ref.resolve()
        except Exception as exc:  # env var unset, block missing, Prefect API down
            log.error(
                "webhook %s: cannot read webhook_secret (%s): %s: %s",
                src.name,
                ref.describe(),
                type(exc).__name__,
                exc,
            )
            raise Refused(
                503, "secret_unavailable", "this source's webhook secret is not available"
            ) from None
        if not value:
            raise Refused(503, "secret_unavailable", "this source's webhook secret is empty")
        self._secrets[src.name] = (value, time.monotonic() + SECRET_TTL_S)
        return value

    # -- what the delivery holds ------------------------------------------------------------

    def cached(self, name: str, key: str, read: Callable[[], Any]) -> Any:
        """`read()` for source `name` (a vendor API read), kept READ_TTL_S; None when it fails."""
        hit = self._reads.get((name, key))
        if hit and hit[1] > time.monotonic():
            return hit[0]
        try:
            found, ttl = read(), READ_TTL_S
        except Exception as exc:  # the API is down: the mapping does without
            log.warning("webhook %s: cannot read %s: %s", name, key, exc)
            found, ttl = None, FAILED_READ_TTL_S
        self._reads[(name, key)] = (found, time.monotonic() + ttl)
        return found

    def mapped(self, src: SourceConfig, payload: dict[str, Any], headers: Any) -> Mapped:
        """The items the delivery lands, by the vendor's mapping (it may read the vendor API)."""
        cached = partial(self.cached, src.name)
        return self.webhooks[src.name].items(self.connectors[src.name], payload, headers, cached)

    # -- accept once ------------------------------------------------------------------------

    def accept(
        self, src: SourceConfig, mapped: Mapped, signature: str
    ) -> tuple[str, str | None, int]:
        """("duplicate" | "ignored" | "landed", batch id, items landed), recorded once."""
        name = src.name
        keys = ["sig:" + hashlib.sha256(signature.encode()).hexdigest()[:32]]
        if mapped.delivery_id:
            keys.insert(0, f"id:{mapped.delivery_id}")
        now = time.time()
        state_name = f"webhooks/{name}"
        with self._locks[name], self.lake.lock(f"webhooks-{name}"):
            state = self.lake.read_state(state_name)
            horizon = now - self.limits.replay_window_s
            seen = {k: v for k, v in state.get("seen", {}).items() if v[0] >= horizon}
            for key in keys:
                if key in seen:
                    return "duplicate", seen[key][1], 0
            batch_id = None
            if mapped.items:
                salt = f"webhook:{mapped.delivery_id or keys[-1]}"
                batch_id = batch_id_for(name, mapped.items, salt=salt)
                meta = {
                    "via": "webhook",
                    "vendor": src.type,
                    "event": mapped.event,
                    "delivery_id": mapped.delivery_id,
                    "received_at": datetime.fromtimestamp(now, UTC).isoformat(),
                }
                self.lake.land_raw(name, batch_id, mapped.items, meta)
            for key in keys:
                seen[key] = [now, batch_id]
            self.lake.write_state(state_name, {"seen": seen})
        return ("landed" if batch_id else "ignored"), batch_id, len(mapped.items)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it (or its declared length) passes `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise Refused(400, "bad_content_length", "Content-Length is not a number") from None
        if length > limit:
            raise Refused(
                413, "too_large", f"body of {length} bytes is above the {limit} byte limit"
            )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(413, "too_large", f"body is above the {limit} byte limit")
    return bytes(body)


def parse_payload(webhook: Webhook, request: Request, body: bytes) -> dict[str, Any]:
    """The verified body as a JSON object (GitHub may also send form-encoded `payload=`)."""
    kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    text = webhook.json_body(body, kind)
    try:
        payload = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "not_json", "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise Refused(400, "not_json", f"expected a JSON object, got {type(payload).__name__}")
    return payload


async def _deliver(receiver: Receiver, request: Request, name: str) -> JSONResponse:
    if request.method != "POST":
        raise Refused(405, "method_not_allowed", "webhooks are delivered with POST")
    src = receiver.source(name)
    body = await read_body(request, receiver.limits.max_body_bytes)
    secret = await run_in_threadpool(receiver.secret, src)
    webhook = receiver.webhooks[name]
    signature = webhook.scheme.verify(
        request.headers, body, secret, datetime.now(UTC), receiver.limits.tolerance_s
    )
    payload = parse_payload(webhook, request, body)
    answer = webhook.handshake(payload)
    if answer is not None:
        log.info("webhook %s: answered the %s handshake", name, webhook.scheme.vendor)
        return JSONResponse(answer)
    mapped = await run_in_threadpool(receiver.mapped, src, payload, request.headers)
    try:
        outcome, batch_id, n = await run_in_threadpool(receiver.accept, src, mapped, signature)
    except OSError as exc:
        log.error("webhook %s: cannot write the lake: %s", name, exc)
        raise Refused(503, "lake_unavailable", "the delivery could not be stored; retry") from None
    ids = {"delivery_id": mapped.delivery_id}
    if outcome == "duplicate":
        log.info(
            "webhook %s: %s delivery %s already accepted (batch %s); not landed again",
            name,
            mapped.event,
            mapped.delivery_id,
            batch_id,
        )
        return JSONResponse({"duplicate": True, "batch_id": batch_id, "items": 0, **ids})
    if outcome == "ignored":
        log.info(
            "webhook %s: %s delivery %s ignored: %s",
            name,
            mapped.event,
            mapped.delivery_id,
            mapped.ignored,
        )
        return JSONResponse({"ignored": mapped.ignored, "items": 0, **ids})
    log.info(
        "webhook %s: %s delivery %s landed %d items as batch %s",
        name,
        mapped.event,
        mapped.delivery_id,
        n,
        batch_id,
    )
    event = BackgroundTask(
        emit,
        "batch_landed",
        f"chorus.source.{name}",
        {"batch_id": batch_id, "items": n},
        **{"chorus.source": name},
    )
    return JSONResponse(
        {"batch_id": batch_id, "items": n, **ids}, status_code=202, background=event
    )


def create_app(config_path: str) -> Starlette:
    """The receiver for one config file (read once; restart to pick up config changes)."""
    receiver = Receiver(load_config(config_path))
    for src in receiver.sources.values():
        if src.type in WEBHOOKS and src.webhook_secret is None:
            log.info("source %s (%s): no webhook_secret, webhooks off", src.name, src.type)
        elif src.type not in WEBHOOKS and src.webhook_secret is not None:
            log.warning(
                "source %s: type %s takes no webhooks; its webhook_secret is not used",
                src.name,
                src.type,
            )

    async def webhook(request: Request) -> JSONResponse:
        name = request.path_params["source"]
        try:
            return await _deliver(receiver, request, name)
        except Refused as refused:
            log.warning(
                "webhook %s: %d %s: %s", name, refused.status, refused.error, refused.message
            )
            headers = {"Allow": "POST"} if refused.status == 405 else None
            return JSONResponse(refused.body(), status_code=refused.status, headers=headers)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "webhooks": sorted(receiver.connectors)})

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/webhooks/{source}", webhook, methods=ANY_METHOD),
        ]
    )
    app.state.receiver = receiver
    return app
