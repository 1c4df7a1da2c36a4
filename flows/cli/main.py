"""The `chorus` command line. Heavy libraries load inside commands, so `chorus --help` is instant."""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Chorus: customer feedback from every source into one embedded Parquet table and weighted trend reports per segment.",
)

ConfigOpt = typer.Option(..., "--config", "-c", help="Path to chorus.yaml", exists=False)


def _fail(msg: str) -> None:
    typer.secho(msg, fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _checked_config(path: str) -> str:
    from flows.runtime.config import ConfigError, load_config

    try:
        load_config(path)
    except ConfigError as exc:
        _fail(str(exc))
    return str(Path(path).resolve())


def _quiet_env() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@app.command()
def validate(config: str = ConfigOpt) -> None:
    """Check a config file and say what is wrong, key by key."""
    _checked_config(config)
    typer.echo(f"{config}: OK")


@app.command()
def run(
    config: str = ConfigOpt,
    step: str = typer.Option("pipeline", help="pipeline, ingest, process or report"),
) -> None:
    """Run the pipeline (or one step of it) on a config, under Prefect."""
    path = _checked_config(config)
    _quiet_env()
    from flows.lake.errors import LakeWriteError
    from flows.runtime.config import ConfigError

    try:
        result = _run_step(path, step)
    except (ConfigError, LakeWriteError) as exc:
        _fail(str(exc))
    if isinstance(result, dict) and "report" in result:
        typer.echo(f"report: {result['report']['html']}")


def _run_step(path: str, step: str) -> dict:
    if step == "pipeline":
        from flows.pipeline import pipeline

        return pipeline(path)
    if step == "ingest":
        from flows.ingest import ingest

        return ingest(path)
    if step == "process":
        from flows.process import run_process

        return run_process(path)
    if step == "report":
        from flows.report import report

        return {"report": report(path)}
    _fail(f"--step: got {step!r}; expected one of pipeline, ingest, process, report")
    return {}


@app.command()
def forget(
    config: str = ConfigOpt,
    customer: str = typer.Option(
        ..., "--customer", help="The customer's e-mail or vendor user id, or their cust_ pseudonym"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would go; change nothing"),
) -> None:
    """Remove one customer's items from raw, feedback, assignments, quarantine, theme quotes
    and the embedding cache; print what went (logged under _state/forget/, pseudonym only)."""
    path = _checked_config(config)
    _quiet_env()
    from flows.forget import forget_customer, format_report
    from flows.runtime.config import ConfigError

    try:
        result = forget_customer(path, customer, dry_run=dry_run)
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(format_report(result))


@app.command()
def demo(
    directory: str = typer.Option(
        ".demo", "--dir", help="Where the demo data, lake and reports go"
    ),
    items: int = typer.Option(6000, help="How many feedback items to generate"),
    seed: int = typer.Option(7, help="Generator seed"),
) -> None:
    """Generate the demo data, serve it from the local vendor sandbox, run the pipeline on it."""
    from flows.devtools.demo import generate_demo, run_demo_sandbox

    _quiet_env()
    out = Path(directory).resolve()
    started = time.monotonic()
    manifest = generate_demo(out, seed=seed, n_items=items)
    key_file = out / ".pseudonym_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    os.environ.setdefault("CHORUS_PSEUDONYM_KEY", key_file.read_text().strip())
    typer.echo(
        f"demo data: {manifest.total_items:,} items; vendor records in {manifest.vendors_dir}, "
        f"meeting notes in {manifest.inbox_dir}"
    )
    with run_demo_sandbox(manifest) as config:
        from flows.devtools.demo.sandbox import sandbox_root

        typer.echo(
            f"sandbox: {sandbox_root(config)} serves Zendesk, App Store Connect, TestFlight, "
            f"Typeform and Slack to the real connectors ({config})"
        )
        result = _run_step(str(config), "pipeline")
    typer.echo(f"lake:   {out / 'lake'}")
    typer.echo(f"report: {result['report']['html']}")
    typer.echo(f"        {result['report']['md']}")
    typer.echo(f"done in {time.monotonic() - started:.0f} s")


@app.command()
def deploy(
    config: str = ConfigOpt,
    prefect_file: str = typer.Option("prefect.yaml", help="The deployments file to expand"),
    pool: str = typer.Option("", help="Work pool name (default: prefect.yaml's)"),
    debounce: int = typer.Option(
        -1, help="Seconds every trigger waits and gathers events (default: prefect.yaml's)"
    ),
) -> None:
    """Create the Prefect deployments: ingest per source, process on "batch landed", report."""
    path = _checked_config(config)
    _quiet_env()
    from flows.deploy import DeployError
    from flows.deploy import deploy as do_deploy

    try:
        do_deploy(
            path,
            prefect_file,
            pool or None,
            echo=typer.echo,
            debounce=debounce if debounce >= 0 else None,
        )
    except DeployError as exc:
        _fail(str(exc))


@app.command()
def connectors() -> None:
    """List every connector type with its source kind and the vendor documentation it follows."""
    from connectors.common.registry import CONNECTORS, connector_class

    for name in sorted(CONNECTORS):
        cls = connector_class(name)
        typer.echo(f"{name:<22} {cls.source_kind:<9} {cls.docs_url}")


@app.command()
def sandbox(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8780, help="Port to listen on (0: any free port)"),
    faults: float = typer.Option(
        0.1,
        help="Share of requests answered with a fault: 429 with Retry-After, 500/503, a slow "
        "or a truncated reply (0: none)",
    ),
    seed: int = typer.Option(0, help="Seed of the invented records and of the fault sequence"),
    page_size_cap: int = typer.Option(
        0, help="Serve at most this many records per page, whatever is asked (0: no cap)"
    ),
) -> None:
    """Serve every vendor API from the local sandbox; print base URLs, credentials, a config."""
    from connectors.common.sandbox.http_faults import FaultPlan
    from connectors.common.sandbox.server import serve_forever

    if not 0 <= faults <= 1:
        _fail(f"--faults: got {faults}; expected a share from 0 to 1")
    if page_size_cap < 0:
        _fail(f"--page-size-cap: got {page_size_cap}; expected 0 (no cap) or more")
    plan = FaultPlan(rate=faults, seed=seed, retry_after=1.0) if faults else None
    cap = page_size_cap or None
    serve_forever(host, port, plan, seed=seed, page_size_cap=cap, echo=typer.echo)


@app.command()
def serve(
    config: str = ConfigOpt,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8700, help="Port to listen on"),
) -> None:
    """Receive signed vendor webhooks (POST /webhooks/<source>) and land them in the raw zone."""
    path = _checked_config(config)
    _quiet_env()
    import logging

    import uvicorn

    from flows.serve.app import create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    web = create_app(path)
    names = sorted(web.state.receiver.connectors)
    if not names:
        typer.secho(
            "no source takes webhooks: give a zendesk, intercom, typeform, github or slack "
            "source a webhook_secret",
            fg=typer.colors.YELLOW,
            err=True,
        )
    for name in names:
        typer.echo(f"webhook: POST http://{host}:{port}/webhooks/{name}")
    uvicorn.run(web, host=host, port=port, log_level="info")


def main() -> None:  # pragma: no cover
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
