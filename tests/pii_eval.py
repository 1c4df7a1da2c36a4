"""Recall and precision of the PII detectors per kind over a labeled corpus.

The corpus is JSON lines: ``{"text": ..., "spans": [{"start", "end", "kind"}, ...]}``.
Matching is by overlap: a labeled span is found (true positive) when a predicted span of
the same kind overlaps it; a predicted span is correct when it overlaps a labeled span of
the same kind. Recall = found labeled / labeled, precision = correct predicted / predicted.
A text without spans is a hard negative: anything predicted there is a false positive.
Run ``python -m tests.pii_eval`` to print the table and the misses.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from transforms.pii import KINDS
from transforms.redact import PiiSpan, pii_spans

CORPUS = Path(__file__).parent / "data" / "pii_corpus.jsonl"


def _overlaps(a: PiiSpan, b: PiiSpan) -> bool:
    return a.kind == b.kind and a.start < b.end and b.start < a.end


def corpus_rows(corpus_path: Path | str = CORPUS) -> list[tuple[str, list[PiiSpan]]]:
    """(text, labeled spans) of each corpus line."""
    rows = []
    for line in Path(corpus_path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            spans = [PiiSpan(s["start"], s["end"], s["kind"]) for s in item["spans"]]
            rows.append((item["text"], spans))
    return rows


def mistakes(corpus_path: Path | str = CORPUS) -> list[tuple[str, str, str]]:
    """("missed" | "false", kind, snippet) for every error, to read when tuning."""
    out = []
    for text, gold in corpus_rows(corpus_path):
        predicted = pii_spans(text)
        for g in gold:
            if not any(_overlaps(g, p) for p in predicted):
                out.append(("missed", g.kind, f"{text[g.start : g.end]!r} in {text!r}"))
        for p in predicted:
            if not any(_overlaps(p, g) for g in gold):
                out.append(("false", p.kind, f"{text[p.start : p.end]!r} in {text!r}"))
    return out


def scores(corpus_path: Path | str = CORPUS) -> dict[str, tuple[float, float, int]]:
    """kind -> (recall, precision, support) over the corpus; 1.0 where there is nothing to
    measure (no labeled spans for recall, no predictions for precision)."""
    labeled, found, predicted, correct = Counter(), Counter(), Counter(), Counter()
    for text, gold in corpus_rows(corpus_path):
        spans = pii_spans(text)
        for g in gold:
            labeled[g.kind] += 1
            found[g.kind] += any(_overlaps(g, p) for p in spans)
        for p in spans:
            predicted[p.kind] += 1
            correct[p.kind] += any(_overlaps(p, g) for g in gold)
    return {
        kind: (
            found[kind] / labeled[kind] if labeled[kind] else 1.0,
            correct[kind] / predicted[kind] if predicted[kind] else 1.0,
            labeled[kind],
        )
        for kind in KINDS
    }


def score_table(result: dict[str, tuple[float, float, int]]) -> str:
    """The scores as a fixed-width table."""
    lines = [f"{'kind':<10} {'recall':>7} {'precision':>9} {'support':>7}"]
    for kind, (recall, precision, support) in result.items():
        lines.append(f"{kind:<10} {recall:>7.3f} {precision:>9.3f} {support:>7d}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(score_table(scores()))
    for what, kind, snippet in mistakes():
        print(f"{what:<6} {kind:<9} {snippet}")
