"""The report as Markdown (for chat) and a self-contained HTML page with inline SVG charts (opens offline)."""

from __future__ import annotations

import html
import math

from transforms.report_model import ReportModel, ThemeSummary

_PALETTE = [
    "#2563eb",
    "#dc2626",
    "#16a34a",
    "#9333ea",
    "#ea580c",
    "#0891b2",
    "#ca8a04",
    "#db2777",
    "#4b5563",
    "#65a30d",
]
_FLAG_ICON = {"emerging": "🆕", "rising": "📈", "fading": "📉"}
_FLAG_MARK = {"emerging": "new", "rising": "↑", "fading": "↓"}  # plain glyphs every font has


def _pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.0f}%"


def _reconciliation(t: dict) -> str:
    """landed (+ extra rows) = written + unchanged + stale + superseded + quarantined (+ not
    feedback), as counted and checked by the process step (ProcessStats.reconciliation_problem)."""
    parts = [f"{t.get('written', 0):,} written", f"{t.get('unchanged', 0):,} unchanged"]
    for key, label in (
        ("stale", "older than stored"),
        ("superseded", "superseded in the same run"),
    ):
        if t.get(key):
            parts.append(f"{t[key]:,} {label}")
    parts.append(f"{t.get('quarantined', 0):,} quarantined")
    if t.get("skipped"):
        parts.append(f"{t['skipped']:,} not feedback (system events, bots)")
    extra = f" + {t['expanded']:,} extra rows (replies, ratings)" if t.get("expanded") else ""
    return f"{t.get('landed', 0):,} landed{extra} = " + " + ".join(parts)


def markdown_report(m: ReportModel) -> str:
    lines = [
        f"# {m.title}",
        "",
        f"As of **{m.as_of}** · window from {m.window_start} · weighting policy `{m.policy_version}`",
        "",
    ]
    t = m.totals
    lines.append(
        f"{t['items']:,} feedback items ({t['in_window']:,} in the window), {_pct(t['themed_share'])} themed; this run: {_reconciliation(t)}."
    )
    lines += ["", "## What is rising, and for whom", ""]
    if not m.flagged:
        lines.append("No theme passes the significance and minimum-volume guards this period.")
    for f in m.flagged:
        base = "new" if f["baseline_share"] in (None, 0) else _pct(f["baseline_share"])
        lines.append(
            f"- {_FLAG_ICON.get(f['flag'], '')} **{f['label']}**{' (theme group)' if f.get('level') == 'group' else ''} — {f['flag']} in **{f['segment']}**: {_pct(f['share'])} of the segment's feedback vs {base} before (n={f['count']}, q={f['q_value']:.3g})"
        )
    lines += [
        "",
        "## Top themes (weighted)",
        "",
        "| # | theme | items | accounts | weighted | unweighted rank | flags | driven by |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in m.themes:
        flags = ", ".join(f"{v} in {k}" for k, v in sorted(s.flags.items())) or ""
        lines.append(
            f"| {s.weighted_rank} | {s.label} | {s.count} | {s.accounts} | {s.weighted:.1f} | {s.count_rank} | {flags} | {', '.join(s.drivers)} |"
        )
    lines += ["", "## Evidence", ""]
    for s in m.themes[:8]:
        lines.append(f"**{s.label}** (`{s.theme_id}`)")
        for q in s.quotes:
            lines.append(
                f"> {q['text']}  \n> — {q['source_kind']} · {q['source']} #{q.get('source_id', '')} · {q['date']}"
                + (f" · [link]({q['url']})" if q["url"] else "")
            )
        lines.append("")
    lines += [
        "## Representation",
        "",
        "| segment | feedback share | customer share | ratio | source mix |",
        "|---|---|---|---|---|",
    ]
    for r in m.representation:
        warn = " ⚠️ under-represented" if r["under_represented"] else ""
        mix = ", ".join(f"{k} {v}" for k, v in r["source_mix"].items())
        ratio = "–" if r["ratio"] != r["ratio"] else f"{r['ratio']:.2f}"
        lines.append(
            f"| {r['segment']} | {_pct(r['feedback_share'])} | {_pct(r['customer_share'])} | {ratio}{warn} | {mix} |"
        )
    lines += ["", "## Survey fatigue", ""]
    if not m.fatigue:
        lines.append("No customer answered surveys more often than the configured limit.")
    for f in m.fatigue[:20]:
        lines.append(
            f"- `{f['customer_id']}` ({f['account'] or 'unknown account'}, {f['plan'] or '?'}): {f['responses']} responses"
        )
    return "\n".join(lines) + "\n"


def _line_chart(
    themes: list[ThemeSummary],
    periods: list[str],
    window_start: str,
    width: int = 760,
    height: int = 260,
) -> str:
    pad_l, pad_b, pad_t, pad_r = 44, 28, 12, 170
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    top = max((max(s.series) for s in themes if s.series), default=1.0) or 1.0
    n = max(1, len(periods) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return pad_l + plot_w * i / n, pad_t + plot_h * (1 - v / top)

    parts = [
        f'<svg class="chart" data-chart="trends" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="Weekly weighted score of the top themes">'
    ]
    if window_start in periods:
        x0 = xy(periods.index(window_start), 0)[0]
        parts.append(
            f'<rect x="{x0:.1f}" y="{pad_t}" width="{pad_l + plot_w - x0:.1f}" height="{plot_h}" fill="#fef3c7"/><text x="{x0 + 4:.1f}" y="{pad_t + 12}" font-size="10" fill="#92400e">window</text>'
        )
    for k in range(5):
        v = top * k / 4
        y = xy(0, v)[1]
        parts.append(
            f'<line x1="{pad_l}" x2="{pad_l + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/><text x="{pad_l - 6}" y="{y + 3:.1f}" font-size="10" text-anchor="end" fill="#6b7280">{v:.0f}</text>'
        )
    for i, p in enumerate(periods):
        if i % max(1, len(periods) // 6) == 0 or i == len(periods) - 1:
            parts.append(
                f'<text x="{xy(i, 0)[0]:.1f}" y="{height - 8}" font-size="10" text-anchor="middle" fill="#6b7280">{p[5:]}</text>'
            )
    for j, s in enumerate(themes):
        color = _PALETTE[j % len(_PALETTE)]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(s.series)))
        parts.append(
            f'<polyline class="series" fill="none" stroke="{color}" stroke-width="2" points="{pts}"><title>{html.escape(s.label)}</title></polyline>'
        )
        ly = pad_t + 14 * j + 8
        parts.append(
            f'<rect x="{width - pad_r + 10}" y="{ly - 8}" width="10" height="10" fill="{color}"/><text x="{width - pad_r + 24}" y="{ly + 1}" font-size="11">{html.escape(_short(s.label, 24))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _heat_color(lift: float) -> str:
    if lift != lift:
        return "#f3f4f6"
    v = max(-1.0, min(1.0, math.log2(max(lift, 1e-3)) / 2))
    if v >= 0:
        return f"rgb(255,{int(255 - 170 * v)},{int(255 - 200 * v)})"
    return f"rgb({int(255 + 180 * v)},{int(255 + 90 * v)},255)"


def _heat_map(m: ReportModel) -> str:
    segs = [s for s in m.segments]
    cell_w, cell_h, label_w, head_h = 84, 24, 240, 30
    width, height = label_w + cell_w * len(segs), head_h + cell_h * len(m.themes) + 4
    parts = [
        f'<svg class="chart" data-chart="heatmap" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="Theme by segment lift">'
    ]
    for k, seg in enumerate(segs):
        parts.append(
            f'<text x="{label_w + cell_w * k + cell_w / 2}" y="{head_h - 10}" font-size="11" text-anchor="middle" font-weight="600">{html.escape(_short(seg.removeprefix("persona:"), 13))}</text>'
        )
    for i, s in enumerate(m.themes):
        y = head_h + cell_h * i
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" font-size="11" text-anchor="end">{html.escape(_short(s.label, 36))}</text>'
        )
        for k, seg in enumerate(segs):
            lift = m.heat.get(s.theme_id, {}).get(seg, float("nan"))
            flag = s.flags.get(seg)
            txt = "–" if lift != lift else f"×{lift:.1f}"
            stroke = ' stroke="#111827" stroke-width="2"' if flag else ""
            parts.append(
                f'<rect class="cell" x="{label_w + cell_w * k + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{_heat_color(lift)}"{stroke}><title>{html.escape(s.label)} in {seg}: {txt} vs baseline{" (" + flag + ")" if flag else ""}</title></rect>'
            )
            parts.append(
                f'<text x="{label_w + cell_w * k + cell_w / 2}" y="{y + 16}" font-size="10" text-anchor="middle">{txt}{" " + _FLAG_MARK[flag] if flag else ""}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _representation_chart(m: ReportModel) -> str:
    rows = m.representation
    bar_h, label_w, width = 18, 110, 560
    height = 20 + len(rows) * (2 * bar_h + 10)
    scale = (width - label_w - 60) / max(
        [0.01]
        + [r["feedback_share"] for r in rows]
        + [r["customer_share"] for r in rows if r["customer_share"] == r["customer_share"]]
    )
    parts = [
        f'<svg class="chart" data-chart="representation" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="Feedback share against customer share">'
    ]
    for i, r in enumerate(rows):
        y = 14 + i * (2 * bar_h + 10)
        color = "#dc2626" if r["under_represented"] else "#2563eb"
        cs = r["customer_share"] if r["customer_share"] == r["customer_share"] else 0.0
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h}" font-size="11" text-anchor="end">{html.escape(r["segment"])}</text>'
        )
        parts.append(
            f'<rect class="bar" x="{label_w}" y="{y}" width="{max(1, r["feedback_share"] * scale):.1f}" height="{bar_h - 2}" fill="{color}"/><text x="{label_w + r["feedback_share"] * scale + 4:.1f}" y="{y + 12}" font-size="10">feedback {_pct(r["feedback_share"])}</text>'
        )
        parts.append(
            f'<rect class="bar" x="{label_w}" y="{y + bar_h}" width="{max(1, cs * scale):.1f}" height="{bar_h - 2}" fill="#9ca3af"/><text x="{label_w + cs * scale + 4:.1f}" y="{y + bar_h + 12}" font-size="10">customers {_pct(r["customer_share"])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#111827;background:#f9fafb}
main{max-width:1100px;margin:0 auto;padding:24px}h1{margin:0 0 4px}h2{margin-top:32px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.meta{color:#6b7280}.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:16px;margin:12px 0}
.flags li{margin:6px 0}.pill{display:inline-block;border-radius:999px;padding:1px 8px;font-size:12px;margin-right:4px}
.emerging{background:#ede9fe;color:#5b21b6}.rising{background:#fee2e2;color:#991b1b}.fading{background:#dbeafe;color:#1e40af}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #f3f4f6}
blockquote{margin:8px 0;padding:6px 12px;border-left:3px solid #93c5fd;background:#f8fafc}blockquote small{color:#6b7280;display:block}
.warn{color:#b91c1c;font-weight:600}svg.chart{max-width:100%;height:auto}"""


def _pills(flags: dict[str, str]) -> str:
    return "".join(
        f'<span class="pill {v}">{html.escape(v)} · {html.escape(k)}</span>'
        for k, v in sorted(flags.items())
    )


def _theme_row(s: ThemeSummary) -> str:
    e = html.escape
    kw = e(", ".join(s.keywords[:6]))
    return (
        f"<tr><td>{s.weighted_rank}</td><td><b>{e(s.label)}</b><br><small>{kw}</small></td><td>{s.count}</td>"
        f"<td>{s.accounts}</td><td>{s.weighted:.1f}</td><td>{s.count_rank}</td><td>{_pills(s.flags)}</td>"
        f"<td>{e(', '.join(s.drivers))}</td></tr>"
    )


def _quote(q: dict) -> str:
    e = html.escape
    seg = " · " + e(", ".join(q["segment"])) if q["segment"] else ""
    link = f' · <a href="{e(q["url"])}">source</a>' if q["url"] else ""
    ref = f" #{e(q['source_id'])}" if q.get("source_id") else ""
    return f"<blockquote>{e(q['text'])}<small>{e(q['source_kind'])} · {e(q['source'])}{ref} · {e(q['date'])}{seg}{link}</small></blockquote>"


def _evidence(s: ThemeSummary) -> str:
    e = html.escape
    senti = e(", ".join(f"{k} {v}" for k, v in sorted(s.sentiment.items())))
    types = e(", ".join(f"{k} {v}" for k, v in sorted(s.types.items())))
    quotes = "".join(_quote(q) for q in s.quotes)
    return f'<div class="card"><h3>{e(s.label)} <small class="meta">{e(s.theme_id)}</small></h3>{quotes}<p class="meta">sentiment: {senti} · types: {types}</p></div>'


def _rep_row(r: dict) -> str:
    e = html.escape
    ratio = "–" if r["ratio"] != r["ratio"] else f"{r['ratio']:.2f}"
    warn = ' <span class="warn">under-represented</span>' if r["under_represented"] else ""
    mix = e(", ".join(f"{k} {v}" for k, v in r["source_mix"].items()))
    return f"<tr><td>{e(r['segment'])}</td><td>{_pct(r['feedback_share'])}</td><td>{_pct(r['customer_share'])}</td><td>{ratio}{warn}</td><td>{mix}</td></tr>"


def _type_row(r: dict) -> str:
    e = html.escape
    return f"<tr><td>{e(r['type'])}</td><td>{r['items']}</td><td>{_pct(r['weighted_share'])}</td><td>{_pct(r['negative'])}</td><td>{e('; '.join(r['top_themes']))}</td></tr>"


def html_report(m: ReportModel) -> str:
    e = html.escape
    t = m.totals
    flag_items = (
        "".join(
            f'<li><span class="pill {f["flag"]}">{e(f["flag"])}</span><b>{e(f["label"])}</b>{" <i>(theme group)</i>" if f.get("level") == "group" else ""} in <b>{e(f["segment"])}</b>: {_pct(f["share"])} of its feedback vs {"none" if not f["baseline_share"] else _pct(f["baseline_share"])} before · n={f["count"]} · q={f["q_value"]:.2g}</li>'
            for f in m.flagged
        )
        or "<li>No theme passes the significance and minimum-volume guards this period.</li>"
    )
    rows = "".join(_theme_row(s) for s in m.themes)
    evidence = "".join(_evidence(s) for s in m.themes[:8])
    rep_rows = "".join(_rep_row(r) for r in m.representation)
    fat = (
        "".join(
            f"<tr><td><code>{e(f['customer_id'])}</code></td><td>{e(f['account'] or '–')}</td><td>{e(f['plan'] or '–')}</td><td>{f['responses']}</td></tr>"
            for f in m.fatigue[:25]
        )
        or '<tr><td colspan="4">No customer answered surveys more often than the limit.</td></tr>'
    )
    # the themes a reader should look at first: rising or new, then the biggest
    moving = [s for s in m.themes if any(v in ("emerging", "rising") for v in s.flags.values())]
    top_for_chart = (moving + [s for s in m.themes if s not in moving])[:8]
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(m.title)} · {e(m.as_of)}</title><style>{_CSS}</style></head>
<body><main><h1>{e(m.title)}</h1><p class="meta">As of {e(m.as_of)} · window from {e(m.window_start)} · weighting policy <code>{e(m.policy_version)}</code> · {t["items"]:,} items, {_pct(t["themed_share"])} themed · this run: {_reconciliation(t)}</p>
<h2>What is rising, and for whom</h2><div class="card"><ul class="flags">{flag_items}</ul></div>
<h2>Rising and top themes over time (weighted score per week)</h2><div class="card">{_line_chart(top_for_chart, m.periods, m.window_start)}</div>
<h2>Theme × segment: window share against baseline</h2><div class="card">{_heat_map(m)}<p class="meta">×2 means the theme's share of the segment's feedback doubled against the baseline weeks; outlined cells are statistically flagged (FDR-controlled).</p></div>
<h2>Top themes (ranked by weighted score)</h2><div class="card"><table><tr><th>#</th><th>theme</th><th>items</th><th>accounts</th><th>weighted</th><th>unweighted rank</th><th>flags</th><th>driven by</th></tr>{rows}</table></div>
<h2>Evidence</h2>{evidence}
<h2>By feedback type (window)</h2><div class="card"><table><tr><th>type</th><th>items</th><th>weighted share</th><th>negative</th><th>top themes</th></tr>{"".join(_type_row(r) for r in m.by_type)}</table></div>
<h2>Representation</h2><div class="card">{_representation_chart(m)}<table><tr><th>segment</th><th>feedback share</th><th>customer share</th><th>ratio</th><th>source mix</th></tr>{rep_rows}</table></div>
<h2>Survey fatigue</h2><div class="card"><table><tr><th>customer</th><th>account</th><th>plan</th><th>responses</th></tr>{fat}</table></div>
</main></body></html>"""
