"""The report's charts as inline SVG strings, drawn with matplotlib's SVG backend.

Each chart is its own `Figure` (no pyplot, so no global figure state), text is
drawn as paths (no font files needed) and the XML prologue and namespace URLs
are removed, so the SVG can be pasted into HTML that loads nothing from outside.
Element ids are prefixed per chart so several charts can share one page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402  (after choosing the backend)

_GREEN = "#2e7d32"
_GREY = "#9e9e9e"


def _to_inline_svg(fig: Figure, prefix: str, label: str) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": prefix, "svg.fonttype": "path"}):
        fig.savefig(
            buf,
            format="svg",
            bbox_inches="tight",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg, count=2)
    svg = re.sub(r'id="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    safe_label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{safe_label}" ', 1)


def _figure(height: float = 3.2) -> Figure:
    fig = Figure(figsize=(6.4, height), dpi=100)
    fig.patch.set_facecolor("white")
    return fig


def message_svg(prefix: str, title: str, message: str) -> str:
    """A chart-sized SVG that states why there is nothing to plot."""
    fig = _figure(1.6)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)
    ax.text(0.5, 0.45, message, ha="center", va="center", fontsize=9, color="#555555", wrap=True)
    return _to_inline_svg(fig, prefix, f"{title}: {message}")


def bar_chart_svg(
    prefix: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    xlabel: str,
    value_format: str = "{:g}",
) -> str:
    """Horizontal bars, first label at the top, each bar annotated with its value."""
    if not labels:
        return message_svg(prefix, title, "nothing to show")
    fig = _figure(max(1.8, 0.38 * len(labels) + 1.0))
    ax = fig.add_subplot()
    ys = list(range(len(labels)))[::-1]
    colors = [_GREEN if v > 0 else _GREY for v in values]
    ax.barh(ys, values, color=colors)
    ax.set_yticks(ys, labels=[_shorten(label) for label in labels], fontsize=8)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_title(title, fontsize=11)
    top = max([*values, 0.0]) or 1.0
    ax.set_xlim(min([*values, 0.0]), top * 1.18)
    for y, v in zip(ys, values, strict=True):
        ax.text(v, y, " " + value_format.format(v), va="center", fontsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _to_inline_svg(fig, prefix, title)


def histogram_svg(prefix: str, title: str, values: Sequence[float], xlabel: str) -> str:
    """A histogram of `values` (e.g. predicted savings in percent)."""
    if not values:
        return message_svg(prefix, title, "nothing to show")
    fig = _figure()
    ax = fig.add_subplot()
    lo, hi = min(values), max(values)
    bins = 20 if hi > lo else 1
    ax.hist(values, bins=bins, color=_GREEN, edgecolor="white")
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel("functions", fontsize=9)
    ax.set_title(title, fontsize=11)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _to_inline_svg(fig, prefix, title)


def _shorten(label: str, width: int = 48) -> str:
    return label if len(label) <= width else "…" + label[-(width - 1) :]
