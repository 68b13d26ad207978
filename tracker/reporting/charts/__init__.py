"""Analysis results as plotly figures.

Figures travel as JSON in a ``data-figure`` attribute and are drawn by
``static/charts.js`` with the plotly.js the app serves itself, so a page has
no inline script for the Content-Security-Policy to allow and no external
URL. Every figure has a table or sentences beside it for screen readers.

Importing this package loads plotly: callers import it inside the view that
draws a chart, so starting the app does not (tests/test_startup.py).

- :mod:`.base`: the JSON, the shared layout and colours;
- :mod:`.dashboard`: the dashboard's figures;
- :mod:`.patient`: the patient page's pain chart.
"""

from .base import BAND_COLOUR, BENEFIT_COLOUR, RELIEF_COLOUR, Figure, to_json
from .dashboard import (
    CHANCE_COLOUR,
    DROP_SCALES,
    FUNNEL_GROUPS,
    FUNNEL_MARKERS,
    drop_in_words,
    funnel_figure,
    months_figure,
    pain_change_figure,
    rates_figure,
    roc_figure,
    rule_figure,
)
from .patient import patient_pain_figure

__all__ = [
    "BAND_COLOUR",
    "BENEFIT_COLOUR",
    "CHANCE_COLOUR",
    "DROP_SCALES",
    "FUNNEL_GROUPS",
    "FUNNEL_MARKERS",
    "RELIEF_COLOUR",
    "Figure",
    "drop_in_words",
    "funnel_figure",
    "months_figure",
    "pain_change_figure",
    "patient_pain_figure",
    "rates_figure",
    "roc_figure",
    "rule_figure",
    "to_json",
]
