"""Contract cases: one entry per connector that has a sandbox; tests/connectors/test_contract.py runs them all.

To add a vendor: write connectors/<vendor>/connector.py and its sandbox app
connectors/<vendor>/sandbox.py, then tests/connectors/contract/<vendor>.py with a CASES list of
ContractCase saying how to configure the connector against the sandbox, which items a full run
must deliver, and how to change the sandbox's data for the incremental check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ContractCase:
    """How one connector is checked against its sandbox vendor."""

    vendor: str  # name in connectors.common.sandbox.server.VENDORS
    connector_type: str  # name in connectors.common.registry.CONNECTORS
    credentials: dict[str, str]  # credential key -> env var the test sets from the sandbox's values
    auth_credential: str  # the key whose env var a 401 must name
    expected: Callable[[Any], list[str]]  # item keys a full run delivers, from the vendor app
    item_key: Callable[[dict[str, Any]], str]  # one fetched item's identity
    mutate: Callable[[Any], set[str]]  # change the data; the item keys the next run delivers
    options: dict[str, Any] = field(default_factory=dict)  # type-specific config keys


def _vendor_cases() -> list[ContractCase]:
    """Cases defined in tests/connectors/contract/<vendor>.py (each module exposes CASES)."""
    import importlib
    import pkgutil

    import tests.connectors.contract as pkg

    found: list[ContractCase] = []
    for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)):
        found.extend(importlib.import_module(f"tests.connectors.contract.{mod}").CASES)
    return found


CASES: list[ContractCase] = _vendor_cases()
