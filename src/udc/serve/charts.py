"""The geometry of the records-per-run chart, drawn as inline SVG by the pipeline page (no JavaScript, nothing
fetched)."""

from __future__ import annotations

from typing import Any

WIDTH, HEIGHT, GAP = 720, 160, 2


def bar_chart(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One bar per run (as views.Views.run_brief gives them, oldest first), its height the rows it read, coloured by
    its status."""
    if not points:
        return None
    top = max(p["rows"] for p in points) or 1
    step = WIDTH / len(points)
    bars = []
    for i, p in enumerate(points):
        height = max(1.0, HEIGHT * p["rows"] / top)
        bars.append({"x": round(i * step, 1), "y": round(HEIGHT - height, 1), "w": round(max(step - GAP, 1), 1),
                     "h": round(height, 1), "status": p["status"], "id": p["id"],
                     "label": f"run #{p['id']} {p['status']}: {p['rows']:,} records ({p['started_at'][:16]})"})
    return {"width": WIDTH, "height": HEIGHT, "max": top, "bars": bars}


__all__ = ["bar_chart"]
