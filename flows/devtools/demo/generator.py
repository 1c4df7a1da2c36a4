"""The seeded generator of the bundled demo data (`chorus demo`).

`generate_demo` writes customers.csv, vendors/<vendor>.json (the records the local vendor
sandbox serves to the real connectors: Zendesk, App Store Connect and TestFlight, Typeform,
Slack; see flows/devtools/demo/vendor_data.py), inbox/notes/ (meeting notes for the file-drop
connector), and the ground truth under truth/ (never ingested). chorus.yaml is written by
`run_demo_sandbox` (flows/devtools/demo/sandbox.py), which knows the sandbox's port.
Same seed and arguments give byte-identical files: every random draw comes from
`random.Random` streams seeded with strings, and everything written is sorted.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from flows.devtools.demo import catalog as cat
from flows.devtools.demo.people import Account, build_accounts, build_staff, customer_rows
from flows.devtools.demo.records import Renderer
from flows.devtools.demo.sandbox import VENDORS_DIR, write_vendor_files
from flows.devtools.demo.schedule import Item, Scheduler
from flows.devtools.demo.truth import ITEM_COLUMNS, item_rows, planted_truth
from flows.devtools.demo.vendor_data import vendor_data

N_ACCOUNTS = 400
CUSTOMER_COLUMNS = ["account_id", "account_name", "plan", "arr", "region", "lifecycle", "persona",
                    "target_market", "valid_from", "domains"]  # fmt: skip


@dataclass(frozen=True)
class DemoManifest:
    """What `generate_demo` wrote, and the truths it planted."""

    out_dir: Path
    config_path: Path  # written by run_demo_sandbox (it points at the sandbox's port)
    customers_path: Path
    inbox_dir: Path  # meeting notes (file_drop)
    vendors_dir: Path  # vendors/<vendor>.json: what the sandbox serves
    planted_path: Path
    items_path: Path
    files: tuple[Path, ...]
    counts: dict[str, int]  # unique items per source kind
    updates: int  # support tickets that appear a second time with a later updated_at
    n_accounts: int
    start: date
    end: date
    seed: int
    planted: tuple[dict, ...]

    @property
    def n_items(self) -> int:
        return sum(self.counts.values())

    @property
    def total_items(self) -> int:
        """Alias of `n_items` (unique items; ticket updates not counted twice)."""
        return self.n_items

    @property
    def counts_by_source(self) -> dict[str, int]:
        """Unique items per source name as configured in chorus.yaml."""
        return {cat.KIND_TO_SOURCE[k]: v for k, v in self.counts.items()}


@dataclass
class DemoWorld:
    """The generated items (rendered, with demo ids) and what they were drawn from."""

    items: list[Item]
    accounts: list[Account]
    start: date
    end: date
    weeks: int
    seed: int
    fatigue: list[str]


def demo_items(*, seed: int = 7, n_items: int = 6000, weeks: int = 12,
               end: date = date(2026, 11, 22)) -> DemoWorld:  # fmt: skip
    """Every demo item, rendered and with its demo id, in time order (nothing is written)."""
    if weeks < 8:
        raise ValueError(f"weeks must be at least 8 (4 baseline + 4 recent weeks), got {weeks}")
    if n_items < 500:
        raise ValueError(
            f"n_items must be at least 500 for the planted trends to show, got {n_items}"
        )
    start = end - timedelta(days=7 * weeks - 1)

    def stream(name: str) -> random.Random:
        return random.Random(f"chorus-demo:{seed}:{name}")

    accounts = build_accounts(stream("accounts"), N_ACCOUNTS, start, weeks)
    scheduler = Scheduler(
        stream("schedule"), accounts, start, weeks, n_items / weeks / cat.BASE_WEEKLY_ITEMS
    )
    scheduler.stable()
    scheduler.planted()
    fatigue = scheduler.survey_fatigue(cat.SURVEY_FATIGUE_ACCOUNTS)
    items = sorted(scheduler.items, key=lambda i: (i.ts, i.kind, i.theme))
    start_dt = datetime.combine(start, datetime.min.time())
    end_dt = datetime.combine(end, datetime.max.time()).replace(microsecond=0)
    renderer = Renderer(stream("render"), build_staff(), start_dt, weeks, end_dt)
    for item in items:
        renderer.render(item)
    _assign_ids(stream("ids"), items)
    return DemoWorld(items, accounts, start, end, weeks, seed, fatigue)


def generate_demo(out_dir: Path, *, seed: int = 7, n_items: int = 6000, weeks: int = 12,
                  end: date = date(2026, 11, 22)) -> DemoManifest:  # fmt: skip
    """Write the demo data set into `out_dir` (inbox/, vendors/, truth/ replaced) and describe it."""
    world = demo_items(seed=seed, n_items=n_items, weeks=weeks, end=end)
    items, accounts, start = world.items, world.accounts, world.start
    out_dir = Path(out_dir)
    converted = vendor_data(items)
    for item, source_id, vendor in zip(items, converted.source_ids, converted.vendors, strict=True):
        if vendor:
            item.source_id, item.path = source_id, f"{VENDORS_DIR}/{vendor}.json"

    for sub in ("inbox", "truth", VENDORS_DIR):
        if (out_dir / sub).exists():
            shutil.rmtree(out_dir / sub)
    files = _write_notes(out_dir, items)
    files += write_vendor_files(out_dir, converted.data)
    files.append(_write_csv(out_dir / "customers.csv", CUSTOMER_COLUMNS, customer_rows(accounts)))
    truth = planted_truth(
        items, seed=seed, start=start, end=end, weeks=weeks, fatigue_accounts=world.fatigue
    )
    planted_path = _write_text(
        out_dir / "truth" / "planted.json", json.dumps(truth, indent=2, ensure_ascii=False) + "\n"
    )
    items_path = _write_csv(out_dir / "truth" / "items.csv", ITEM_COLUMNS, item_rows(items))
    files += [planted_path, items_path]
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item.kind] += 1
    return DemoManifest(
        out_dir=out_dir,
        config_path=out_dir / "chorus.yaml",
        customers_path=out_dir / "customers.csv",
        inbox_dir=out_dir / "inbox",
        vendors_dir=out_dir / VENDORS_DIR,
        planted_path=planted_path,
        items_path=items_path,
        files=tuple(sorted(files)),
        counts={k: counts[k] for k in cat.KINDS},
        updates=sum(1 for i in items if "_update" in i.fields),
        n_accounts=len(accounts),
        start=start,
        end=end,
        seed=seed,
        planted=tuple(truth["trends"]),
    )


def _assign_ids(rng: random.Random, items: list[Item]) -> None:
    """Vendor-style ids in time order (items are already sorted by time)."""
    ticket, review, note = 41_870, 1_094_200_000, 0
    used: set[str] = set()

    def token(prefix: str, bits: int) -> str:
        while True:
            value = f"{prefix}{rng.getrandbits(bits):0{bits // 4}x}"
            if value not in used:
                used.add(value)
                return value

    for item in items:
        f = item.fields
        if item.kind == "support":
            ticket += rng.randint(1, 4)
            f["id"] = ticket
            item.source_id = str(ticket)
        elif item.kind == "review":
            review += rng.randint(2_000, 60_000)
            f["review_id"] = item.source_id = str(review)
        elif item.kind == "survey":
            f["response_id"] = item.source_id = token("R_", 48)
        elif item.kind == "beta":
            f["feedback_id"] = item.source_id = token("tf-", 64)
        elif item.kind == "internal":
            note += 1
            f["note_id"] = item.source_id = f"sn-{note:05d}"


def _write_notes(out_dir: Path, items: list[Item]) -> list[Path]:
    """Meeting notes as one Markdown file each, under inbox/notes/ (the file name is the id)."""
    files: list[Path] = []
    used: set[str] = set()
    for item in items:
        if item.kind != "notes":
            continue
        who = item.account.short if item.account else "notes"
        stem = f"{item.ts.date().isoformat()}-{_slug(who)}-{item.fields['kind']}"
        name, n = f"{stem}.md", 2
        while name in used:
            name, n = f"{stem}-{n}.md", n + 1
        used.add(name)
        item.source_id, item.path = name, f"inbox/notes/{name}"
        files.append(_write_text(out_dir / "inbox" / "notes" / name, item.fields["markdown"]))
    return files


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return path


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: ("" if row.get(c) is None else row[c]) for c in columns})
    return _write_text(path, buf.getvalue())
