"""A local, fault-injecting stand-in for vendor APIs, for contract tests and `chorus sandbox`."""

from __future__ import annotations

from connectors.sandbox.faults import FAULT_KINDS, FaultPlan
from connectors.sandbox.server import (
    VENDORS,
    Request,
    Response,
    Sandbox,
    VendorApp,
    route,
    serve_forever,
    start_sandbox,
)

__all__ = [
    "FAULT_KINDS",
    "VENDORS",
    "FaultPlan",
    "Request",
    "Response",
    "Sandbox",
    "VendorApp",
    "route",
    "serve_forever",
    "start_sandbox",
]
