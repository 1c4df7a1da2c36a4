"""Text helpers for connector parsers: HTML bodies to plain text, optional text fields.

HTML to text has one implementation, transforms.normalize.text_from_html (the normalize step
uses it too); connectors call it through here, so parsing code names no transform and
importing a connector does not import the transforms package.
"""

from __future__ import annotations

from typing import Any

from connectors.common.base import ParseError

__all__ = ["html_text", "text_from_html", "text_or_none"]


def text_from_html(html: str) -> str:
    """Plain text of an HTML fragment (blocks become lines, entities unescaped, scripts dropped)."""
    from transforms.normalize import text_from_html as convert

    return convert(html)


def html_text(value: Any, what: str) -> str:
    """Plain text of an HTML body field; "" when absent; ParseError naming `what` when not text."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise ParseError(f"{what} is {type(value).__name__}, not text")
    return text_from_html(value)


def text_or_none(value: Any) -> str | None:
    """A non-empty string form of a value, else None."""
    return None if value is None or value == "" else str(value)
