"""`chorus.yaml`, validated: every wrong key or value fails before any work, naming the key."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from flows.lake.store import Lake
from schemas.feedback import SOURCE_KINDS


class ConfigError(ValueError):
    """A configuration problem, with one line per wrong key naming the value and what is expected."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Strict):
    """A secret given by env var name or Prefect Secret block name, never inline."""

    env: str | None = None
    block: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SecretRef:
        if bool(self.env) == bool(self.block):
            raise ValueError(
                "give exactly one of 'env' (an environment variable) or 'block' (a Prefect Secret block)"
            )
        return self

    def describe(self) -> str:
        return f"env var {self.env}" if self.env else f"Prefect Secret block '{self.block}'"

    def resolve(self) -> str:
        if self.env:
            value = os.environ.get(self.env)
            if not value:
                raise ConfigError(f"secret: environment variable {self.env} is not set")
            return value
        from prefect.blocks.system import Secret  # lazy: prefect is heavy

        return Secret.load(self.block).get()


class SourceConfig(_Strict):
    """One source; type-specific keys are checked by the connector's own model."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    type: str
    source_kind: Literal["support", "review", "survey", "beta", "internal", "notes"] | None = None
    base_url: str | None = None
    credentials: dict[str, SecretRef] = {}
    webhook_secret: SecretRef | None = None
    schedule: str | None = None  # cron for the ingest deployment

    def extra(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class CustomersConfig(_Strict):
    path: str
    format: Literal["csv", "parquet"] | None = None


ScalarOrList = str | int | float | bool | None | list[str | int | float | bool | None]


class SegmentConfig(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    where: dict[str, ScalarOrList]
    description: str | None = None


class WeightingConfig(_Strict):
    version: str
    source_kind: dict[str, Annotated[float, Field(ge=0)]] = {k: 1.0 for k in SOURCE_KINDS}
    segment: dict[str, Annotated[float, Field(ge=0)]] = {}
    target_market: Annotated[float, Field(ge=0)] = 2.0
    internal: Annotated[float, Field(ge=0, le=1)] = 0.2
    arr_log_base: Annotated[float, Field(gt=0)] | None = 10000.0
    recency_half_life_days: Annotated[float, Field(gt=0)] | None = 90.0
    repeat_decay: Annotated[float, Field(gt=0, le=1)] = 0.5

    @field_validator("source_kind")
    @classmethod
    def _known_kinds(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(SOURCE_KINDS))
        if unknown:
            raise ValueError(
                f"unknown source kind(s) {unknown}; expected among {list(SOURCE_KINDS)}"
            )
        return {**{k: 1.0 for k in SOURCE_KINDS}, **value}


class ThemesConfig(_Strict):
    """Theming: granularity follows the data (stability across resamples), so there is no
    distance to tune; these bound its cost and say when the corpus is re-fitted."""

    seed: int = 42
    max_unassigned: Annotated[float, Field(ge=0, le=1)] = 0.10  # outlier budget
    min_theme_size: Annotated[int, Field(ge=2)] = 10  # fewer items: no theme, no new ask
    sample_size: Annotated[int, Field(ge=100)] = 20_000  # items the themes are fitted on
    stability_sample: Annotated[int, Field(ge=100)] = 8_000  # of those, the granularity search's
    coarse_repeats: Annotated[int, Field(ge=1, le=3)] = 2  # resamples per k in its first sweep
    refit_share: Annotated[float, Field(gt=0, le=1)] = 0.05  # re-fit past this share of new items


class ReportConfig(_Strict):
    period: Literal["week", "month"] = "week"
    window: Annotated[int, Field(ge=1, le=12)] = 4
    baseline_periods: Annotated[int, Field(ge=1, le=52)] = 8
    min_items: Annotated[int, Field(ge=1)] = 8
    min_accounts: Annotated[int, Field(ge=1)] = 3
    fdr_alpha: Annotated[float, Field(gt=0, lt=1)] = 0.1
    top_themes: Annotated[int, Field(ge=1)] = 12
    underrepresented_ratio: Annotated[float, Field(gt=0, lt=1)] = 0.5
    fatigue_limit: Annotated[int, Field(ge=1)] = 4
    fatigue_window_days: Annotated[int, Field(ge=1)] = 30


class EmbeddingConfig(_Strict):
    model: str = "all-MiniLM-L6-v2"
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 64
    # auto: torch float16 on a CUDA GPU, else int8 ONNX on CPU (torch if the model cannot export)
    backend: Literal["auto", "torch", "onnx-int8"] = "auto"
    cache_dir: str | None = (
        None  # built ONNX models; default $XDG_CACHE_HOME/chorus or ~/.cache/chorus
    )


class ProcessingConfig(_Strict):
    """How the processing flow runs its chunk tasks: Prefect's default thread pool, or
    prefect-dask's DaskTaskRunner over a local cluster of `dask_workers` processes."""

    task_runner: Literal["default", "dask"] = "default"
    dask_workers: Annotated[int, Field(ge=1, le=64)] = 2
    chunk_rows: Annotated[int, Field(ge=1)] = 20_000  # rows per chunk task (whole raw batches)
    # processes that parse, redact and pseudonymise chunks side by side under the default task
    # runner (0: one per CPU core; 1: in the flow's own process). Used when a run has at least
    # two chunks; the Dask runner's workers are processes already.
    parse_workers: Annotated[int, Field(ge=0, le=64)] = 0


class WebhooksConfig(_Strict):
    """`chorus serve`: limits of the webhook receiver (each source's secret is its webhook_secret)."""

    max_body_bytes: Annotated[int, Field(ge=1)] = 1 << 20  # larger deliveries get 413
    tolerance_s: Annotated[float, Field(gt=0)] = 300.0  # signed timestamps (Zendesk, Slack)
    replay_window_s: Annotated[float, Field(gt=0)] = 3 * 86400.0  # accepted ids kept this long

    @model_validator(mode="after")
    def _window_covers_tolerance(self) -> WebhooksConfig:
        if self.replay_window_s < self.tolerance_s:
            raise ValueError(
                "replay_window_s must be at least tolerance_s, or a replay within the "
                "timestamp tolerance would no longer be recognised"
            )
        return self


class ChorusConfig(_Strict):
    lake: str = "lake"
    reports: str = "reports"
    sources: list[SourceConfig]
    customers: CustomersConfig | None = None
    segments: list[SegmentConfig] = []
    personas: list[SegmentConfig] = []  # named rules like segments; reported as "persona:<name>"
    internal_domains: list[str] = []
    pseudonym_key: SecretRef = SecretRef(env="CHORUS_PSEUDONYM_KEY")
    weighting: WeightingConfig = WeightingConfig(version="default")
    themes: ThemesConfig = ThemesConfig()
    report: ReportConfig = ReportConfig()
    embedding: EmbeddingConfig = EmbeddingConfig()
    webhooks: WebhooksConfig = WebhooksConfig()
    processing: ProcessingConfig = ProcessingConfig()
    base_dir: str = "."  # folder of the config file; relative paths resolve against it

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: list[SourceConfig]) -> list[SourceConfig]:
        names = [s.name for s in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {dupes}")
        return value

    @field_validator("segments")
    @classmethod
    def _unique_segments(cls, value: list[SegmentConfig]) -> list[SegmentConfig]:
        names = [s.name for s in value]
        if "all" in names or len(set(names)) != len(names):
            raise ValueError("segment names must be unique and not 'all' (reserved for everyone)")
        return value

    def resolve(self, path: str) -> str:
        """A path from the config, made absolute against the config's folder (URLs unchanged)."""
        if "://" in path or os.path.isabs(path):
            return path
        return str((Path(self.base_dir) / path).resolve())

    @property
    def lake_url(self) -> str:
        return self.resolve(self.lake)

    @property
    def reports_dir(self) -> str:
        return self.resolve(self.reports)

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(f"no source named {name!r}; configured: {[s.name for s in self.sources]}")


def _loc(loc: tuple[Any, ...], data: Any) -> str:
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            name = (
                node[part].get("name")
                if isinstance(node, list) and isinstance(node[part], dict)
                else None
            )
            out += f"[{part}]" + (f" ({name})" if name else "")
        else:
            out += ("." if out else "") + str(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return out


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = ChorusConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        for candidate in (ann, *getattr(ann, "__args__", ())):
            inner = getattr(candidate, "__args__", (candidate,))
            for c in (candidate, *inner):
                if isinstance(c, type) and issubclass(c, BaseModel):
                    model = c
                    break
    return list(getattr(model, "model_fields", {}))


def format_errors(err: ValidationError, data: Any, origin: str) -> str:
    """One line per problem: where, the value found, and what is expected."""
    lines = [f"{origin}: invalid configuration"]
    for e in err.errors():
        where = _loc(e["loc"], data)
        if e["type"] == "extra_forbidden":
            key = str(e["loc"][-1])
            close = difflib.get_close_matches(key, _known_keys(e["loc"]), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            lines.append(f"  - {where}: unknown key{hint}")
            continue
        value = e.get("input")
        shown = repr(value) if not isinstance(value, dict) else "{...}"
        if e["type"] == "missing":
            lines.append(f"  - {where}: missing; {e['msg'].lower()}")
        else:
            lines.append(f"  - {where}: got {shown}; expected: {e['msg']}")
    return "\n".join(lines)


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> ChorusConfig:
    """Read and validate a config file, with each source also checked by its connector."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: no such config file")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{p}: expected a mapping of keys at the top level, got {type(data).__name__}"
        )
    data = {**data, **(overrides or {})}
    data.setdefault("base_dir", str(p.resolve().parent))
    return config_from_dict(data, origin=str(p))


def config_from_dict(data: dict[str, Any], origin: str = "config") -> ChorusConfig:
    try:
        cfg = ChorusConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_errors(err, data, origin)) from None
    from connectors.common.registry import validate_source  # noqa: PLC0415  (avoid import cycle)

    problems = []
    for i, src in enumerate(cfg.sources):
        problems.extend(f"  - sources[{i}] ({src.name}).{msg}" for msg in validate_source(src))
    if problems:
        raise ConfigError("\n".join([f"{origin}: invalid configuration", *problems]))
    for seg in [*cfg.segments, *cfg.personas]:
        for key in seg.where:
            if key not in CUSTOMER_ATTRIBUTES:
                raise ConfigError(
                    f"{origin}: invalid configuration\n  - segments ({seg.name}).where.{key}: unknown "
                    f"attribute; expected one of {sorted(CUSTOMER_ATTRIBUTES)}"
                )
    return cfg


CUSTOMER_ATTRIBUTES = {
    "plan", "arr", "region", "lifecycle", "persona", "target_market", "account_id", "account_name",
}  # fmt: skip


def config_and_lake(config_path: str) -> tuple[ChorusConfig, Lake]:
    """The run's validated configuration and its lake."""
    cfg = load_config(config_path)
    return cfg, Lake(cfg.lake_url)


def pseudonym_key(cfg: ChorusConfig) -> bytes:
    try:
        return cfg.pseudonym_key.resolve().encode()
    except ConfigError as exc:
        raise ConfigError(
            f"pseudonym_key: {exc}; the keyed HMAC for customer and account ids needs a secret ({cfg.pseudonym_key.describe()})"
        ) from None
