"""The report's four charts: Altair specifications, drawn to SVG by vl-convert.

Altair (Vega-Lite) describes each chart; vl-convert draws it to SVG in the
process, with no browser and no network, so the HTML page and its PDF carry
the pictures themselves and open anywhere, offline.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

# One colour per age bucket, from on time (green) to over 90 days (dark red).
BUCKET_COLOURS = ("#4c9a6a", "#f2c14e", "#f08a4b", "#d1495b", "#7a1f3d")
LEVEL_COLOUR = "#2f6690"
DSO_COLOUR = "#2f6690"
TREND_COLOUR = "#d1495b"
FUNNEL_COLOUR = "#3a7ca5"
WIDTH = 620


def _svg(chart: alt.TopLevelMixin, language: str) -> str:
    import vl_convert

    spec = chart.configure(font="DejaVu Sans").configure_view(stroke=None).to_dict()
    locale = "fr-FR" if language == "fr" else "en-GB"
    return vl_convert.vegalite_to_svg(spec, format_locale=locale, time_format_locale=locale)


def aged_balance_chart(aged: dict[str, Any], labels: dict[str, str], language: str) -> str:
    """Stacked bars: one bar per debtor kind, its open amount split by age bucket."""
    buckets = list(aged["buckets"])
    names = [labels[f"bucket_{b}"] for b in buckets]
    rows = [{"group": labels.get(f"kind_{group}", group), "bucket": labels[f"bucket_{b}"], "order": i, "amount": float(amount)}
            for group, row in sorted(aged["by_kind"].items()) for i, (b, amount) in
            enumerate(row.items())]
    frame = pd.DataFrame(rows, columns=["group", "bucket", "order", "amount"])
    chart = alt.Chart(frame, width=WIDTH, height=40 * max(len(aged["by_kind"]), 1) + 40).mark_bar().encode(
        y=alt.Y("group:N", title=labels["debtor_kind"]),
        x=alt.X("sum(amount):Q", title=labels["amount_eur"], axis=alt.Axis(format=",.0f")),
        color=alt.Color("bucket:N", title=labels["age"], sort=names,
                        scale=alt.Scale(domain=names, range=list(BUCKET_COLOURS)),
                        legend=alt.Legend(orient="bottom")),
        order=alt.Order("order:Q"))
    return _svg(chart, language)


def dso_chart(points: list[dict[str, Any]], trend, labels: dict[str, str], language: str) -> str:
    """DSO week by week as a line, with its least-squares trend dashed."""
    frame = pd.DataFrame([{"day": p["day"].isoformat(), "dso": float(p["dso"])}
                          for p in points if p["dso"] is not None], columns=["day", "dso"])
    base = alt.Chart(frame, width=WIDTH, height=220)
    line = base.mark_line(point=True, color=DSO_COLOUR).encode(
        x=alt.X("day:T", title=labels["week"], axis=alt.Axis(format="%d/%m")),
        y=alt.Y("dso:Q", title=labels["days"]))
    if trend is None or len(frame) < 2:
        return _svg(line, language)
    ends = pd.DataFrame([{"day": points[0]["day"].isoformat(), "dso": float(trend.first)},
                         {"day": points[-1]["day"].isoformat(), "dso": float(trend.last)}])
    trend_line = alt.Chart(ends).mark_line(strokeDash=[6, 4], color=TREND_COLOUR).encode(
        x="day:T", y="dso:Q")
    return _svg(line + trend_line, language)


def recovery_chart(recovery: list[dict[str, Any]], labels: dict[str, str], language: str) -> str:
    """Bars: the share of the amount chased that each level recovered within 15 days."""
    frame = pd.DataFrame([{"level": labels[f"level_{r['level']}"],
                           "share": float(r["share"] or 0)} for r in recovery],
                         columns=["level", "share"])
    order = [labels[f"level_{r['level']}"] for r in recovery]
    bars = alt.Chart(frame, width=WIDTH, height=200).mark_bar(color=LEVEL_COLOUR).encode(
        x=alt.X("level:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("share:Q", title=labels["recovered_share"], scale=alt.Scale(domain=[0, 100])))
    text = bars.mark_text(dy=-8).encode(text=alt.Text("share:Q", format=".1f"))
    return _svg(bars + text, language)


def litigation_funnel(stages: list[dict[str, Any]], captions: list[str],
                      labels: dict[str, str], language: str) -> str:
    """A funnel: one centred bar per stage, as wide as the amount claimed at that stage."""
    rows = [{"stage": labels[f"stage_{s['stage']}"], "claimed": float(s["claimed"]),
             "caption": caption} for s, caption in zip(stages, captions)]
    frame = pd.DataFrame(rows, columns=["stage", "claimed", "caption"])
    order = list(frame["stage"])
    width = WIDTH - 200  # the captions go to the right of the funnel
    base = alt.Chart(frame, width=width, height=36 * max(len(rows), 1)).transform_calculate(
        left="-datum.claimed / 2", right="datum.claimed / 2")
    bars = base.mark_bar(color=FUNNEL_COLOUR).encode(
        y=alt.Y("stage:N", sort=order, title=None),
        x=alt.X("left:Q", axis=None), x2="right:Q")
    text = base.mark_text(color="#222", align="left").encode(
        y=alt.Y("stage:N", sort=order), x=alt.value(width + 12),
        text=alt.Text("caption:N"))
    return _svg(bars + text, language)
