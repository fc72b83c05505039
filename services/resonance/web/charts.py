"""Server-side SVG: KPI lines against their targets, drop bars, and the who-talks-to-whom graph.
Pure strings (no script, no external asset), so the strict CSP holds and the pictures print."""

from __future__ import annotations

import math
from datetime import date
from html import escape

W, H, PAD = 360, 160, 30


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}".rstrip("0").rstrip(".") if v else "0"


def kpi_line(title: str, points: list[tuple[date, float | None]], target: float | None) -> str:
    vals = [v for _, v in points if v is not None]
    top = max([*vals, target or 0, 1e-9])
    top = top * 1.1
    n = max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return PAD + i * (W - 2 * PAD) / n, H - PAD - v / top * (H - 2 * PAD)

    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {W} {H}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{PAD}" y="16" class="t">{escape(title)}</text>',
             f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" class="axis"/>']
    path = []
    for i, (_, v) in enumerate(points):
        if v is None:
            continue
        x, y = xy(i, v)
        path.append(f"{'M' if not path else 'L'}{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="pt"><title>{points[i][0]}: {_fmt(v)}</title></circle>')
    if path:
        parts.insert(3, f'<path d="{" ".join(path)}" class="line"/>')
    if target is not None:
        _, ty = xy(0, target)
        parts.append(f'<line x1="{PAD}" y1="{ty:.1f}" x2="{W - PAD}" y2="{ty:.1f}" class="target"/>')
        parts.append(f'<text x="{W - PAD}" y="{ty - 3:.1f}" class="tl" text-anchor="end">target {_fmt(target)}</text>')
    if points:
        parts.append(f'<text x="{PAD}" y="{H - 10}" class="l">{points[0][0]}</text>')
        parts.append(f'<text x="{W - PAD}" y="{H - 10}" class="l" text-anchor="end">{points[-1][0]}</text>')
        last = next((v for _, v in reversed(points) if v is not None), None)
        if last is not None:
            parts.append(f'<text x="{W - PAD}" y="16" class="v" text-anchor="end">{_fmt(last)}</text>')
    else:
        parts.append(f'<text x="{W / 2}" y="{H / 2}" class="l" text-anchor="middle">no snapshots yet</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars(title: str, rows: list[tuple[str, float, float]], labels: tuple[str, str]) -> str:
    """Paired bars per row: (label, a, b)."""
    w = max(W, 40 + 34 * len(rows))
    top = max([1.0, *(max(a, b) for _, a, b in rows)]) * 1.1
    parts = [f'<svg class="chart wide" role="img" aria-label="{escape(title)}" viewBox="0 0 {w} {H + 20}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{PAD}" y="16" class="t">{escape(title)}</text>',
             f'<rect x="{w - 190}" y="6" width="10" height="10" class="a"/><text x="{w - 176}" y="15" class="l">{escape(labels[0])}</text>',
             f'<rect x="{w - 100}" y="6" width="10" height="10" class="b"/><text x="{w - 86}" y="15" class="l">{escape(labels[1])}</text>']
    for i, (label, a, b) in enumerate(rows):
        x = PAD + i * 34
        for j, (v, cls) in enumerate(((a, "a"), (b, "b"))):
            h = v / top * (H - 2 * PAD)
            parts.append(f'<rect x="{x + j * 13}" y="{H - PAD - h:.1f}" width="12" height="{h:.1f}" class="{cls}">'
                         f'<title>{escape(label)}: {_fmt(v)}</title></rect>')
        parts.append(f'<text x="{x + 12}" y="{H - PAD + 14}" class="l" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def pick_edges(edges: list[tuple[str, str, float]], limit: int = 45, per_member: int = 4) -> list[tuple[str, str, float]]:
    """The strongest edges, at most `per_member` per member, so one hub does not take the whole picture."""
    seen: dict[str, int] = {}
    out = []
    for a, b, w in sorted(edges, key=lambda e: -e[2]):
        if seen.get(a, 0) >= per_member or seen.get(b, 0) >= per_member * 4:
            continue
        out.append((a, b, w))
        seen[a] = seen.get(a, 0) + 1
        seen[b] = seen.get(b, 0) + 1
        if len(out) >= limit:
            break
    return out


def graph(edges: list[tuple[str, str, float]], size: int = 520) -> str:
    """Members on a circle, an edge per interacting pair, width by interactions."""
    nodes: dict[str, float] = {}
    for a, b, w in edges:
        nodes[a] = nodes.get(a, 0) + w
        nodes[b] = nodes.get(b, 0) + w
    order = sorted(nodes, key=lambda n: (-nodes[n], n))
    c, r = size / 2, size / 2 - 70
    # The busiest member in the middle when it takes part in a quarter of the edges (a hub); the rest on a circle.
    hub = order[0] if order and sum(1 for a, b, _ in edges if order[0] in (a, b)) * 4 >= len(edges) else None
    ring = [n for n in order if n != hub]
    pos = {n: (c + r * math.cos(2 * math.pi * i / max(len(ring), 1)), c + r * math.sin(2 * math.pi * i / max(len(ring), 1)))
           for i, n in enumerate(ring)}
    if hub is not None:
        pos[hub] = (c, c)
    top = max([1.0, *(w for _, _, w in edges)])
    biggest = max([1.0, *nodes.values()])
    parts = [f'<svg class="graph" role="img" aria-label="who talks to whom" viewBox="0 0 {size} {size}" xmlns="http://www.w3.org/2000/svg">']
    if not edges:
        parts.append(f'<text x="{c}" y="{c}" class="l" text-anchor="middle">no interactions yet: run an extraction</text>')
    for a, b, w in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" class="edge" stroke-width="{0.5 + 6 * w / top:.2f}">'
                     f'<title>{escape(a)} → {escape(b)}: {_fmt(w)}</title></line>')
    for n in order:
        x, y = pos[n]
        rad = 4 + 12 * math.sqrt(nodes[n] / biggest)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{rad:.1f}" class="node"><title>{escape(n)}: {_fmt(nodes[n])}</title></circle>')
        dx = 1 if x >= c else -1
        parts.append(f'<text x="{x + dx * (rad + 3):.1f}" y="{y + 4:.1f}" class="l" text-anchor="{"start" if dx > 0 else "end"}">{escape(n)}</text>')
    parts.append("</svg>")
    return "".join(parts)
