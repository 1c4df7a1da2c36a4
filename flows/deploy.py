"""`chorus deploy`: prefect.yaml's deployments, one ingest deployment per configured source.

prefect.yaml holds the shared pieces (work pool, schedules, concurrency) and one `ingest`
template; this module expands the template per source of a config, points every deployment at
that config, makes sure the work pool and the dataset-writer concurrency limits exist, and hands
the result to `prefect deploy --all`, so what runs is exactly what `prefect deploy` would do.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from flows.runtime.config import ChorusConfig, load_config

# task tags whose tag concurrency limit (1) keeps two runs from writing one dataset at once
WRITER_TAGS = ("chorus-feedback-writer", "chorus-themes-writer", "chorus-trends-writer")
INGEST_TEMPLATE = "ingest"


class DeployError(RuntimeError):
    pass


def render_deployments(
    config_path: str | Path,
    prefect_file: str | Path,
    pool: str | None = None,
    debounce: int | None = None,
) -> dict[str, Any]:
    """prefect.yaml with the ingest template expanded per source and the config path filled in;
    `debounce` (seconds) replaces every trigger's `within` and `schedule_after`."""
    config_path = str(Path(config_path).resolve())
    cfg = load_config(config_path)
    with open(prefect_file, encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)  # anchors and aliases are resolved here
    deployments = spec.get("deployments") or []
    template = next((d for d in deployments if d.get("name") == INGEST_TEMPLATE), None)
    if template is None:
        raise DeployError(f"{prefect_file}: no deployment named {INGEST_TEMPLATE!r} to expand")
    out: list[dict[str, Any]] = []
    for dep in deployments:
        if dep is template:
            out += [_ingest_for(template, cfg, source.name) for source in cfg.sources]
            continue
        out.append(_with_config(copy.deepcopy(dep), config_path))
    for dep in out:
        dep["parameters"]["config_path"] = config_path
        if pool:
            dep.setdefault("work_pool", {})["name"] = pool
        for trigger in dep.get("triggers") or []:
            if debounce is not None:
                trigger["within"] = trigger["schedule_after"] = int(debounce)
    spec["deployments"] = out
    return spec


def _with_config(dep: dict[str, Any], config_path: str) -> dict[str, Any]:
    dep["parameters"] = {**(dep.get("parameters") or {}), "config_path": config_path}
    return dep


def _ingest_for(template: dict[str, Any], cfg: ChorusConfig, source: str) -> dict[str, Any]:
    dep = copy.deepcopy(template)
    dep["name"] = f"ingest-{source}"
    dep["description"] = f"Pull source {source!r} incrementally into the raw zone."
    dep["parameters"] = {**(dep.get("parameters") or {}), "sources": [source]}
    dep["tags"] = [*(dep.get("tags") or []), f"source:{source}"]
    cron = cfg.source(source).schedule
    if cron:
        dep["schedules"] = [{"cron": cron, "timezone": "UTC"}]
    return dep


def ensure_server_objects(pool: str) -> list[str]:
    """The process work pool and the writer tag concurrency limits; returns what it created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    created: list[str] = []
    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
            created.append(f"work pool {pool} (process)")
        except ObjectAlreadyExists:
            pass
        for tag in WRITER_TAGS:
            client.create_concurrency_limit(tag=tag, concurrency_limit=1)
            created.append(f"concurrency limit {tag}=1")
    return created


def deploy(
    config_path: str | Path,
    prefect_file: str | Path = "prefect.yaml",
    pool: str | None = None,
    echo: Any = print,
    debounce: int | None = None,
) -> list[str]:
    """Render, create pool and limits, run `prefect deploy --all`; returns the deployment names."""
    prefect_file = Path(prefect_file).resolve()
    if not prefect_file.exists():
        raise DeployError(f"{prefect_file}: not found (run from the Chorus project root)")
    spec = render_deployments(config_path, prefect_file, pool, debounce)
    pool_name = pool or spec["deployments"][0]["work_pool"]["name"]
    for line in ensure_server_objects(pool_name):
        echo(f"ensured {line}")
    rendered = prefect_file.parent / ".chorus" / "prefect.deploy.yaml"
    rendered.parent.mkdir(exist_ok=True)
    rendered.write_text(
        "# Rendered by `chorus deploy` from prefect.yaml; do not edit.\n"
        + yaml.safe_dump(spec, sort_keys=False)
    )
    cmd = [
        sys.executable,
        "-m",
        "prefect",
        "--no-prompt",
        "deploy",
        "--all",
        "--prefect-file",
        str(rendered),
    ]
    proc = subprocess.run(
        cmd, cwd=prefect_file.parent, capture_output=True, text=True, env={**os.environ}
    )
    if proc.returncode != 0:
        raise DeployError(
            f"prefect deploy failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    names = [f"{_flow_name(d)}/{d['name']}" for d in spec["deployments"]]
    for name in names:
        echo(f"deployed {name}")
    return names


def _flow_name(dep: dict[str, Any]) -> str:
    return {
        "flows/ingest.py:ingest": "chorus-ingest",
        "flows/process.py:process": "chorus-process",
        "flows/report.py:report": "chorus-report",
    }.get(dep["entrypoint"], dep["entrypoint"])
