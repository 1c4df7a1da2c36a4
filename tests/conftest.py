"""Shared fixtures: offline model settings, a pseudonym key, and a small file-drop config."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("CHORUS_PSEUDONYM_KEY", "test-key-not-a-secret")
os.environ.setdefault("CHORUS_PROGRESS", "0")

SMALL_CONFIG = """
lake: lake
reports: reports
sources:
  - name: tickets
    type: file_drop
    source_kind: support
    path: inbox/tickets/*.csv
    format: csv
    columns: {source_id: id, created_at: created, updated_at: updated, title: subject, text: body, account_id: org, customer_id: email, rating: score}
    rating_scale: [1, 5]
  - name: beta
    type: file_drop
    source_kind: beta
    path: inbox/beta/*.jsonl
    format: jsonl
    columns: {source_id: feedback_id, created_at: timestamp, text: comment, account_id: account_id, customer_id: tester_email, app_version: app_version}
  - name: notes
    type: file_drop
    source_kind: notes
    path: inbox/notes/*.md
    format: markdown
    columns: {account_id: account, created_at: date, title: title}
customers: {path: customers.csv}
segments:
  - {name: enterprise, where: {plan: enterprise}}
  - {name: emea, where: {region: EMEA}}
internal_domains: [ourco.example]
weighting: {version: test-1}
"""


def write_small_project(root: Path) -> Path:
    """A tiny file-drop project: CSV tickets, JSONL beta feedback, Markdown notes, customers."""
    (root / "inbox" / "tickets").mkdir(parents=True)
    (root / "inbox" / "beta").mkdir(parents=True)
    (root / "inbox" / "notes").mkdir(parents=True)
    (root / "inbox" / "tickets" / "week1.csv").write_text(
        textwrap.dedent(
            """\
            id,created,updated,subject,body,org,email,score
            1,2026-10-01T10:00:00Z,2026-10-01T10:00:00Z,Export broken,"<p>The CSV export fails with an error.</p><p>Call me on +44 20 7946 0958</p>",acc_1,ann@customer.example,2
            2,2026-10-02T10:00:00Z,2026-10-02T10:00:00Z,Slow dashboards,Dashboards take 30 seconds to load every morning,acc_2,bob@other.example,3
            3,not-a-date,,Bad row,This row has a date nobody can read,acc_1,ann@customer.example,1
            4,2026-10-03T10:00:00Z,2026-10-03T11:00:00Z,Billing,Please charge card 4111 1111 1111 1111 or write to cy@third.example,acc_3,cy@third.example,4
            """
        ),
        encoding="utf-8",
    )
    (root / "inbox" / "beta" / "b1.jsonl").write_text(
        '{"feedback_id": "b-1", "timestamp": "2026-10-04T09:00:00Z", "comment": "Beta build crashes when I open the share sheet", "account_id": "acc_1", "tester_email": "qa@ourco.example", "app_version": "5.4.0 (1203)"}\n'
        "{not json at all\n"
        '{"feedback_id": "b-2", "timestamp": "2026-10-05T09:00:00Z", "comment": "Dark mode please, my eyes hurt at night", "account_id": "acc_2", "tester_email": "dee@other.example", "app_version": "5.4.0 (1203)"}\n',
        encoding="utf-8",
    )
    (root / "inbox" / "notes" / "2026-10-05-workshop.md").write_text(
        "---\ntitle: Workshop with Acme\ndate: 2026-10-05\naccount: acc_1\n---\n# Workshop\n\n- They want SSO with Okta\n- Dashboards are slow for big teams\n",
        encoding="utf-8",
    )
    (root / "customers.csv").write_text(
        "account_id,account_name,plan,arr,region,target_market,valid_from\n"
        "acc_1,Acme,enterprise,120000,EMEA,true,2025-01-01\n"
        "acc_2,Beta Co,pro,5000,NA,false,2025-01-01\n"
        "acc_3,Gamma,pro,8000,EMEA,false,2025-01-01\n"
        "acc_3,Gamma,enterprise,90000,EMEA,true,2026-10-02\n",
        encoding="utf-8",
    )
    cfg = root / "chorus.yaml"
    cfg.write_text(SMALL_CONFIG, encoding="utf-8")
    return cfg


@pytest.fixture
def small_project(tmp_path: Path) -> Path:
    return write_small_project(tmp_path)
