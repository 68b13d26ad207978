"""What every figure shares: its JSON, its layout defaults, the colours."""

from __future__ import annotations

import plotly.io as pio

RELIEF_COLOUR = "#6c8ebf"
BENEFIT_COLOUR = "#1b5e20"
BAND_COLOUR = "rgba(255, 193, 7, 0.25)"

#: A figure as plotly.js takes it: ``{"data": [traces], "layout": {...}}``.
Figure = dict


def to_json(figure: Figure) -> str:
    """The figure as the JSON charts.js passes to Plotly.newPlot.

    Figures are plain dicts, not ``plotly.graph_objects``: checking every
    property as it is set took a tenth of a dashboard view. The tests check
    each figure against plotly's schema instead.
    """
    return pio.to_json(figure, validate=False)


def figure(traces: list[dict], title: str, **layout) -> Figure:
    """A figure of ``traces`` with the app's layout, ``layout`` overriding it."""
    defaults = {
        "title": {"text": title},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "height": 360,
        "legend": {"orientation": "h", "y": -0.2},
        "plot_bgcolor": "white",
    }
    layout = defaults | layout
    layout["yaxis"] = {"gridcolor": "#e5e5e5"} | layout.get("yaxis", {})
    return {"data": traces, "layout": layout}
