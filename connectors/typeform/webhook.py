"""Typeform webhooks: a submitted `form_response` -> the response, as the Responses API gives it.

Signature: Typeform-Signature = "sha256=" + base64(HMAC-SHA256(webhook secret, body)).
https://www.typeform.com/developers/webhooks/secure-your-webhooks/

`form_response` -> the response (form_response without its definition) on "responses", with
`_form` the form summary. Webhook definitions carry no scale steps: when a scale question lacks
them, the definition is read from the Create API with the source's credentials (the receiver
caches it); without credentials the webhook's definition is used.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from connectors.common.http.paginators import dig
from connectors.common.text import text_or_none
from connectors.common.webhooks import Cached, Mapped, Scheme, Webhook, base64_digest
from connectors.typeform.connector import form_summary

log = logging.getLogger("chorus.webhooks")

SCHEME = Scheme(
    vendor="Typeform",
    header="Typeform-Signature",
    prefix="sha256=",
    algorithm=hashlib.sha256,
    encode=base64_digest,
)


def needs_definition(summary: dict[str, Any]) -> bool:
    """A rating or opinion scale whose steps the (webhook's) definition does not give."""
    return any(
        f.get("type") in ("rating", "opinion_scale") and not f.get("steps")
        for f in (summary.get("fields") or {}).values()
    )


def form_definition(connector: Any, form_id: str, cached: Cached) -> dict[str, Any] | None:
    """The form read from the Create API with the source's credentials (cached), or None."""
    if "access_token" not in connector.source.credentials:
        log.warning(
            "webhook %s: form %s: the webhook's definition has no scale steps and the "
            "source has no credentials.access_token to read them; default scales assumed",
            connector.name,
            form_id,
        )
        return None

    def read() -> Any:
        with connector.client() as client:
            return client.get_json(connector.filled(connector.DEFINITION_PATH, quoted=True))

    found = cached(f"form {form_id}", read)
    return found if isinstance(found, dict) else None


def typeform_items(
    connector: Any, body: dict[str, Any], headers: Mapping[str, str], cached: Cached
) -> Mapped:
    kind = str(body.get("event_type") or "")
    delivery = text_or_none(body.get("event_id"))
    response = body.get("form_response")
    if kind != "form_response":
        return Mapped.skip(kind, delivery, f"event_type {kind!r} is not a submitted response")
    if not isinstance(response, dict):
        return Mapped.skip(kind, delivery, "no form_response object")
    form_id = str(response.get("form_id") or dig(response, "definition.id") or "")
    if form_id != connector.options.form_id:
        return Mapped.skip(kind, delivery, f"form {form_id!r} is not this source's")
    summary = form_summary(response.get("definition") or {"id": form_id})
    if needs_definition(summary):
        fetched = form_definition(connector, form_id, cached)
        if fetched is not None:
            summary = form_summary(fetched)
    item = {k: v for k, v in response.items() if k != "definition"}
    item.setdefault("response_id", response.get("token"))
    return Mapped(kind, delivery, [{**item, "_endpoint": "responses", "_form": summary}])


WEBHOOK = Webhook(scheme=SCHEME, items=typeform_items)
