"""Bundled demo data for `chorus demo`: a seeded generator with planted, known trends, served to
the real connectors by the local vendor sandbox."""

from __future__ import annotations

from flows.devtools.demo.generator import DemoManifest, DemoWorld, demo_items, generate_demo
from flows.devtools.demo.sandbox import run_demo_sandbox

__all__ = ["DemoManifest", "DemoWorld", "demo_items", "generate_demo", "run_demo_sandbox"]
