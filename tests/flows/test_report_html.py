"""The HTML report as a person sees it: opened offline in headless Chromium, charts drawn."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from PIL import Image

from transforms.report_model import ReportModel, ThemeSummary
from transforms.report_render import _PALETTE, html_report, markdown_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _model() -> ReportModel:
    periods = [f"2026-09-{d:02d}" for d in (7, 14, 21, 28)] + [
        f"2026-10-{d:02d}" for d in (5, 12, 19, 26)
    ]
    themes = []
    for i, (label, flags) in enumerate(
        [
            ("sso / login / saml", {"enterprise": "rising"}),
            ("csv / export", {}),
            ("ai / assistant", {"all": "emerging"}),
        ]
    ):
        series = [float(5 + i + (k * 3 if flags else 0)) for k in range(len(periods))]
        quote = {
            "feedback_id": f"f{i}",
            "text": f"Quote about {label} <script>alert(1)</script>",
            "source": "support_tickets",
            "source_kind": "support",
            "date": "2026-10-20",
            "url": "https://example.com/t/1" if i == 0 else None,
            "segment": ["enterprise"],
        }
        themes.append(
            ThemeSummary(
                f"th_{i}",
                label,
                label.split(" / "),
                40 - i,
                20,
                90.0 - i,
                i + 1,
                i + 2,
                flags,
                ["enterprise"] if flags else [],
                series,
                [int(v) for v in series],
                [quote],
                {"negative": 3},
                {"bug": 2},
            )
        )
    heat = {
        "th_0": {"all": 2.0, "enterprise": 3.0, "smb": 0.9},
        "th_1": {"all": 1.0, "enterprise": 0.5, "smb": 1.1},
        "th_2": {"all": float("nan"), "enterprise": float("nan"), "smb": float("nan")},
    }
    rep = [
        {
            "segment": "enterprise",
            "feedback_items": 30,
            "feedback_share": 0.4,
            "customer_share": 0.2,
            "ratio": 2.0,
            "under_represented": False,
            "source_mix": {"support": 30},
        },
        {
            "segment": "smb",
            "feedback_items": 5,
            "feedback_share": 0.1,
            "customer_share": 0.5,
            "ratio": 0.2,
            "under_represented": True,
            "source_mix": {"survey": 5},
        },
    ]
    flagged = [
        {
            "theme_id": "th_0",
            "label": "sso / login / saml",
            "segment": "enterprise",
            "flag": "rising",
            "count": 30,
            "accounts": 12,
            "share": 0.09,
            "baseline_share": 0.03,
            "q_value": 0.001,
        }
    ]
    return ReportModel(
        "Chorus feedback report",
        "2026-10-31",
        periods,
        periods[-4],
        "p1",
        {
            "items": 100,
            "in_window": 50,
            "themed_share": 0.9,
            "landed": 100,
            "written": 95,
            "unchanged": 0,
            "quarantined": 5,
        },
        themes,
        heat,
        ["all", "enterprise", "smb"],
        rep,
        [
            {
                "customer_id": "cust_x",
                "responses": 7,
                "account": "Acme",
                "plan": "pro",
                "sources": ["nps"],
            }
        ],
        flagged,
    )


def test_markdown_and_html_carry_the_answers_and_escape_quotes() -> None:
    m = _model()
    md, page = markdown_report(m), html_report(m)
    assert "rising in **enterprise**" in md and "under-represented" in md and "cust_x" in md
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert page.count('<svg class="chart"') == 3 and "http" not in page.replace(
        "https://example.com/t/1", ""
    )


def test_report_renders_its_charts_in_headless_chromium(tmp_path: Path) -> None:
    assert CHROMIUM, "chromium is not installed: `make test` installs it (apt-get install chromium)"
    page = tmp_path / "report.html"
    page.write_text(html_report(_model()), encoding="utf-8")
    shot = tmp_path / "shot.png"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,2600",
        f"--screenshot={shot}",
        page.as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, 2600)
    colors = set(img.get_flattened_data())

    def near(hex_color: str, tol: int = 12) -> bool:
        r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
        return any(
            abs(r - x) <= tol and abs(g - y) <= tol and abs(b - z) <= tol for x, y, z in colors
        )

    # the three trend lines, the representation bars (red for under-represented, grey for customers)
    for hex_color in (*_PALETTE[:3], "#dc2626", "#9ca3af"):
        assert near(hex_color), f"no pixel of {hex_color}: a chart did not render"
    # the heat map's strongest cell (x3.0) is a saturated red
    assert any(r > 240 and g < 140 and b < 110 for r, g, b in colors)
