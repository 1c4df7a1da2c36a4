"""The connector contract, run against the local sandbox for every case in tests/connectors/contract/.

Each connector must: page through everything exactly once with tiny pages; resume an
interrupted run from its last committed state with no gap and no duplicate; survive injected
429/5xx/slow/truncated replies; keep secrets out of logs and errors; fail a 401 naming the
source and the credential; and, from a finished run's state, return only what changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from connectors.common.base import Connector, FetchedBatch
from connectors.common.http.errors import SourceAuthError
from connectors.common.registry import connector_class
from connectors.common.sandbox.http_faults import FAULT_KINDS, FaultPlan
from connectors.common.sandbox.server import Sandbox, start_sandbox
from flows.runtime.config import SecretRef, SourceConfig
from tests.connectors.contract_cases import CASES, ContractCase

PAGE_CAP = 2
FAST = {"sleep": lambda seconds: None, "timeout": (2.0, 0.3)}  # no real backoff in tests


@pytest.fixture(params=CASES, ids=lambda case: case.connector_type)
def case(request: pytest.FixtureRequest) -> ContractCase:
    return request.param


@contextmanager
def sandbox_for(case: ContractCase, faults: FaultPlan | None = None) -> Iterator[Sandbox]:
    with start_sandbox(vendors=(case.vendor,), faults=faults, page_size_cap=PAGE_CAP) as sb:
        yield sb


def connector_for(
    case: ContractCase, sb: Sandbox, monkeypatch: pytest.MonkeyPatch, *, wrong: str = ""
) -> Connector:
    """The case's connector pointed at the sandbox, credentials given through env vars."""
    real = sb.vendor(case.vendor).credentials
    refs = {}
    for key, env in case.credentials.items():
        monkeypatch.setenv(env, f"wrong-{real[key]}" if key == wrong else real[key])
        refs[key] = SecretRef(env=env)
    source = SourceConfig(
        name=f"{case.vendor}_contract",
        type=case.connector_type,
        base_url=sb.url(case.vendor),
        credentials=refs,
        **case.options,
    )
    return connector_class(case.connector_type)(source, http=FAST)


def keys(case: ContractCase, batches: list[FetchedBatch]) -> list[str]:
    return [case.item_key(item) for batch in batches for item in batch.items]


def stored(state: dict[str, Any]) -> dict[str, Any]:
    """State as it comes back from the lake: through JSON."""
    return json.loads(json.dumps(state))


def run_with_stops(connector: Connector, stops: list[int]) -> list[FetchedBatch]:
    """Run, abandoning fetch() after each count of batches in `stops`, resuming from the last state."""
    landed: list[FetchedBatch] = []
    state: dict[str, Any] = {}
    for stop in [*stops, None]:
        batches = connector.fetch(state)
        for n, batch in enumerate(batches, start=1):
            landed.append(batch)
            state = stored(batch.state)
            if stop is not None and n >= stop:
                batches.close()  # type: ignore[attr-defined]  # the process died here
                break
    return landed


def test_pages_through_every_record_exactly_once(case, monkeypatch):
    with sandbox_for(case) as sb:
        batches = list(connector_for(case, sb, monkeypatch).fetch({}))
        expected = case.expected(sb.vendor(case.vendor))
    got = keys(case, batches)
    assert sorted(got) == sorted(expected)
    assert len(got) == len(set(got))
    assert max(len(b.items) for b in batches) <= PAGE_CAP
    assert len(sb.requests_to(case.vendor)) >= len(expected) / PAGE_CAP


def test_interrupted_run_resumes_with_no_gap_and_no_duplicate(case, monkeypatch):
    with sandbox_for(case) as sb:
        connector = connector_for(case, sb, monkeypatch)
        full = list(connector.fetch({}))
        assert len(full) > 3
        for k in range(1, len(full)):
            pieces = run_with_stops(connector, [k, 1])
            assert keys(case, pieces) == keys(case, full), f"interrupted after batch {k}"
            assert pieces[-1].state == full[-1].state


def test_every_record_arrives_once_despite_faults(case, monkeypatch):
    injected: set[str] = set()
    for seed in range(1, 7):
        plan = FaultPlan(rate=0.1, kinds=FAULT_KINDS, seed=seed, retry_after=0, slow_s=0.6)
        with sandbox_for(case, plan) as sb:
            got = keys(case, list(connector_for(case, sb, monkeypatch).fetch({})))
            expected = case.expected(sb.vendor(case.vendor))
            injected.update(sb.faults.injected)
        assert sorted(got) == sorted(expected), f"seed {seed}: {sb.faults.injected}"
    assert injected == set(FAULT_KINDS)


def test_no_secret_in_logs_or_errors(case, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    plan = FaultPlan(rate=0.2, kinds=("429", "500", "503"), seed=5, retry_after=0)
    with sandbox_for(case, plan) as sb:
        secrets = [v for k, v in sb.vendor(case.vendor).credentials.items() if k != "email"]
        list(connector_for(case, sb, monkeypatch).fetch({}))
        with pytest.raises(SourceAuthError) as failed:
            list(connector_for(case, sb, monkeypatch, wrong=case.auth_credential).fetch({}))
    assert caplog.records, "the client logged nothing at DEBUG: this test would prove nothing"
    shown = caplog.text + str(failed.value) + repr(failed.value.args)
    for secret in secrets:
        assert secret not in shown
        assert f"wrong-{secret}" not in shown


def test_401_names_the_source_and_the_credential(case, monkeypatch):
    with sandbox_for(case) as sb:
        connector = connector_for(case, sb, monkeypatch, wrong=case.auth_credential)
        with pytest.raises(SourceAuthError) as failed:
            list(connector.fetch({}))
    message = str(failed.value)
    assert failed.value.status == 401
    assert f"{case.vendor}_contract" in message
    assert case.credentials[case.auth_credential] in message  # the env var to check


def test_missing_credential_names_the_env_var(case, monkeypatch):
    with sandbox_for(case) as sb:
        connector = connector_for(case, sb, monkeypatch)
        monkeypatch.delenv(case.credentials[case.auth_credential])
        with pytest.raises(SourceAuthError, match=case.credentials[case.auth_credential]):
            list(connector.fetch({}))


def test_next_run_returns_only_what_changed(case, monkeypatch):
    with sandbox_for(case) as sb:
        connector = connector_for(case, sb, monkeypatch)
        first = list(connector.fetch({}))
        assert keys(case, list(connector.fetch(stored(first[-1].state)))) == []
        changed = case.mutate(sb.vendor(case.vendor))
        second = list(connector.fetch(stored(first[-1].state)))
        third = list(connector.fetch(stored(second[-1].state)))
    got = keys(case, second)
    assert sorted(got) == sorted(changed)
    assert len(got) == len(set(got))
    assert keys(case, third) == []
