"""Statistics for the orthotic trial tracker: pure functions on DataFrames.

No Flask, no SQLAlchemy, no I/O: the web app, the command line and the tests
all call the same functions. The rule and its vocabulary are imported at
once; the statistics modules (pandas, SciPy, statsmodels) load on the first
use of one of their names (PEP 562), so a command that needs only the rule
starts fast.
"""

from importlib import import_module

from analysis import rule
from analysis.rule import *  # noqa: F403

_STATISTICS = (
    "rates",
    "clusters",
    "band",
    "accuracy",
    "completeness",
    "auc",
    "roc",
    "effect",
    "compare",
    "funnel",
    "follow_up_pain",
    "akps_change",
    "fisher",
)

__all__ = [*rule.__all__, *_STATISTICS]


def __getattr__(name: str):
    """A statistics module, or a name one of them exports, loaded on first use."""
    for module_name in _STATISTICS:
        module = import_module(f"analysis.{module_name}")
        if name == module_name:
            return module
        if name in module.__all__:
            value = getattr(module, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
