"""What a processing run counts, and the check that every landed item is accounted for once."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass
class ProcessStats:
    batches: int = 0
    landed: int = 0  # items in the raw batches
    rows: int = 0  # canonical rows accepted, quality checks included (an item may give several)
    written: int = 0  # rows inserted or updated in feedback/
    unchanged: int = 0
    stale: int = 0
    superseded: int = 0  # older versions of an item delivered in the same run
    quarantined: int = 0  # rows or items refused, by the parser, row_problems or the quality suites
    quality_quarantined: int = 0  # of quarantined: refused by the Great Expectations suites
    embedded: int = 0  # texts sent to the model (cache misses)
    expanded: int = 0  # rows beyond one per item (a developer reply, a conversation rating)
    skipped: int = 0  # items that give no row and no error: system events, bot messages
    per_source: dict[str, dict[str, int]] = field(default_factory=dict)

    def count_items(self, n_items: int, good: list[dict], bad: list[dict]) -> None:
        """Count one batch's items: how many gave no row, how many rows beyond the first."""
        gave = {r["_item"] for r in good} | {q["item_index"] for q in bad}
        self.landed += n_items
        self.skipped += n_items - len(gave)
        self.expanded += len(good) + len(bad) - len(gave)

    def add(self, part: ProcessStats) -> None:
        """Add another commit's counts to these."""
        for f in fields(ProcessStats):
            if f.name == "per_source":
                for source, counts in part.per_source.items():
                    mine = self.per_source.setdefault(source, dict.fromkeys(counts, 0))
                    for k, v in counts.items():
                        mine[k] = mine.get(k, 0) + v
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(part, f.name))

    def reconciliation_problem(self) -> str | None:
        """None when landed + extra rows = written + unchanged + stale + superseded +
        quarantined + not feedback (each item counted once); else a message naming the counts."""
        stored = self.written + self.unchanged + self.stale + self.superseded
        lhs, rhs = self.landed + self.expanded, stored + self.quarantined + self.skipped
        if lhs == rhs and stored == self.rows:
            return None
        return (
            f"counts do not reconcile: {self.landed} landed + {self.expanded} extra rows = {lhs}, "
            f"but {self.written} written + {self.unchanged} unchanged + {self.stale} stale + "
            f"{self.superseded} superseded + {self.quarantined} quarantined + {self.skipped} not "
            f"feedback = {rhs} (rows accepted {self.rows}, accounted by the upsert {stored})"
        )
