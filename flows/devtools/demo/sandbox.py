"""Serve the demo's vendor data from the local sandbox and point the demo's chorus.yaml at it.

`generate_demo` writes vendors/<vendor>.json (the records each vendor API returns, see
flows/devtools/demo/vendor_data.py). `run_demo_sandbox(manifest)` starts the sandbox in-process on
127.0.0.1 (a free port) with that data, puts the sandbox's invented credentials into the
environment variables the config names, writes chorus.yaml from the template with every
base_url pointing at the sandbox, yields the config's path, and stops the sandbox on exit.

The port changes from run to run, so the config is rewritten each time. Committed cursors in
lake/_state never hold a URL; only a run that stopped half-way leaves next-page URLs there,
and those are moved to the new port before the connectors read them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

PLACEHOLDER = "${SANDBOX}"  # in flows/devtools/demo/chorus.yaml: the sandbox's root URL
VENDORS_DIR = "vendors"
# (vendor, credential key) -> the environment variable the demo config reads it from
CREDENTIAL_ENV = {
    ("zendesk", "email"): "CHORUS_DEMO_ZENDESK_EMAIL",
    ("zendesk", "api_token"): "CHORUS_DEMO_ZENDESK_API_TOKEN",
    ("apple", "key_id"): "CHORUS_DEMO_ASC_KEY_ID",
    ("apple", "issuer_id"): "CHORUS_DEMO_ASC_ISSUER_ID",
    ("apple", "private_key"): "CHORUS_DEMO_ASC_PRIVATE_KEY",
    ("typeform", "access_token"): "CHORUS_DEMO_TYPEFORM_TOKEN",
    ("slack", "bot_token"): "CHORUS_DEMO_SLACK_BOT_TOKEN",
}


def write_vendor_files(out_dir: Path, data: dict[str, dict[str, list[dict]]]) -> list[Path]:
    """vendors/<vendor>.json, one per vendor (deterministic bytes)."""
    folder = Path(out_dir) / VENDORS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for vendor, collections in sorted(data.items()):
        path = folder / f"{vendor}.json"
        text = json.dumps(collections, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def read_vendor_files(out_dir: Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The vendor data `write_vendor_files` wrote, per vendor."""
    folder = Path(out_dir) / VENDORS_DIR
    files = sorted(folder.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no vendor data in {folder}; run generate_demo first")
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in files}


def config_template() -> str:
    """flows/devtools/demo/chorus.yaml as shipped (with the ${SANDBOX} placeholder)."""
    return (
        resources.files("flows.devtools.demo").joinpath("chorus.yaml").read_text(encoding="utf-8")
    )


def render_config(sandbox_root: str) -> str:
    """The demo config with every base_url under `sandbox_root` (http://127.0.0.1:<port>)."""
    return config_template().replace(PLACEHOLDER, sandbox_root.rstrip("/"))


def sandbox_root(config_path: Path) -> str | None:
    """The sandbox root URL an existing demo config points at (None when there is none)."""
    try:
        data = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    for source in data.get("sources") or []:
        url = str(source.get("base_url") or "")
        if url.startswith("http://127.0.0.1:"):
            return url.rsplit("/", 1)[0]
    return None


def _rebase_state(config_path: Path, old_root: str, new_root: str) -> int:
    """Move next-page URLs a half-finished run left in lake/_state to the new port; count files."""
    from flows.lake.store import Lake
    from flows.runtime.config import load_config

    cfg = load_config(config_path)
    lake = Lake(cfg.lake_url)
    moved = 0
    for source in cfg.sources:
        name = f"ingest/{source.name}"
        text = json.dumps(lake.read_state(name))
        if old_root + "/" in text:
            lake.write_state(name, json.loads(text.replace(old_root + "/", new_root + "/")))
            moved += 1
    return moved


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block, restoring what was there before."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def run_demo_sandbox(demo: Any) -> Iterator[Path]:
    """Serve a generated demo (a DemoManifest or its folder) and yield its chorus.yaml path.

    The sandbox runs in this process on 127.0.0.1, a free port, until the block ends; the
    credentials live in environment variables only for that long.
    """
    from connectors.common.sandbox.server import start_sandbox

    out_dir = Path(getattr(demo, "out_dir", demo))
    data = read_vendor_files(out_dir)
    config_path = out_dir / "chorus.yaml"
    previous = sandbox_root(config_path)
    with start_sandbox(data=data, vendors=tuple(sorted(data)), host="127.0.0.1", port=0) as sandbox:
        root = sandbox.url(sorted(data)[0]).rsplit("/", 1)[0]
        env = {
            var: sandbox.vendor(vendor).credentials[key]
            for (vendor, key), var in CREDENTIAL_ENV.items()
            if vendor in data
        }
        config_path.write_text(render_config(root), encoding="utf-8")
        if previous and previous != root:
            _rebase_state(config_path, previous, root)
        with _environment(env):
            yield config_path
