"""Bundled demo data for `chorus demo`: a seeded generator with planted, known trends."""

from __future__ import annotations

from flows.demo.generator import DemoManifest, generate_demo

__all__ = ["DemoManifest", "generate_demo"]
