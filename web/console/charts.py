"""Charts drawn on the server as inline SVG: no script, no CDN, readable on a small phone.

Each function returns markup for a template (`{{ chart }}`); the numbers are also written as
text beside the bars, so the chart reads without colour and prints in black and white.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from html import escape

from markupsafe import Markup

from messages.render import number

PALETTE = ("#0a4b78", "#b3261e", "#2e7d32", "#ed6c02", "#6a1b9a", "#00838f", "#646970")


def bars(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    scale: float | None = None,
    fmt: Callable[[float], str] = lambda v: number(round(v)),
    color: str = PALETTE[0],
) -> Markup:
    """Horizontal bars, one per (label, value); `scale` is the value of a full bar.

    Labels and values are HTML text (they wrap and never stretch); each bar is a small SVG.
    """
    if not rows:
        return Markup("")
    top = scale or max((v for _, v in rows), default=0) or 1
    lines = []
    for label, value in rows:
        width = max(0.0, min(1.0, value / top)) * 100
        lines.append(
            f'<div class="bar-row"><span class="bar-label">{escape(label)}</span>'
            f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
            f'<rect width="{width:.2f}" height="10" fill="{color}"></rect></svg>'
            f'<span class="bar-value">{escape(fmt(value))}</span></div>'
        )
    return Markup(
        f'<figure class="bars" role="img" aria-label="{escape(title)}">'
        f"<figcaption>{escape(title)}</figcaption>{''.join(lines)}</figure>"
    )


def shares(parts: Sequence[tuple[str, float]], *, title: str) -> Markup:
    """One bar split into coloured shares with a legend: how a whole divides (e.g. channels)."""
    total = sum(v for _, v in parts)
    if total <= 0:
        return Markup("")
    x = 0.0
    rects, legend = [], []
    for i, (label, value) in enumerate(parts):
        color = PALETTE[i % len(PALETTE)]
        width = value / total * 100
        rects.append(
            f'<rect x="{x:.2f}" y="0" width="{width:.2f}" height="18" fill="{color}"></rect>'
        )
        x += width
        legend.append(
            f'<li><span class="swatch" style="background:{color}"></span>{escape(label)}: '
            f"{escape(number(round(value)))} ({round(value / total * 100)}%)</li>"
        )
    return Markup(
        f'<figure class="shares"><svg class="chart" role="img" viewBox="0 0 100 18"'
        f' preserveAspectRatio="none" width="100%" height="18" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(rects)}</svg>"
        f'<ul class="legend">{"".join(legend)}</ul></figure>'
    )


def daily(
    days: Sequence[date], series: Sequence[tuple[str, Sequence[int]]], *, title: str
) -> Markup:
    """Columns per day for one or more series side by side (e.g. sent and delivered)."""
    if not days or not series:
        return Markup("")
    top = max((max(values, default=0) for _, values in series), default=0) or 1
    height, step = 80, 100 / len(days)
    width = step * 0.8 / len(series)
    rects = []
    for s, (label, values) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        for i, value in enumerate(values):
            h = value / top * (height - 2)
            x = i * step + step * 0.1 + s * width
            rects.append(
                f'<rect x="{x:.2f}" y="{height - h:.2f}" width="{width:.2f}" height="{h:.2f}"'
                f' fill="{color}"><title>{escape(label)} {days[i]:%d/%m}: '
                f"{escape(number(value))}</title></rect>"
            )
    legend = "".join(
        f'<li><span class="swatch" style="background:{PALETTE[s % len(PALETTE)]}"></span>'
        f"{escape(label)}: {escape(number(sum(values)))}</li>"
        for s, (label, values) in enumerate(series)
    )
    return Markup(
        f'<figure class="daily"><svg class="chart" role="img" viewBox="0 0 100 {height}"'
        f' preserveAspectRatio="none" width="100%" height="{height}"'
        f' aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(rects)}</svg>'
        f'<figcaption class="muted">{days[0]:%d/%m} – {days[-1]:%d/%m}</figcaption>'
        f'<ul class="legend">{legend}</ul></figure>'
    )
