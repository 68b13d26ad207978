"""Statistics for the orthotic trial tracker: pure functions on DataFrames.

No Flask, no SQLAlchemy, no I/O: the web app, the command line and the tests
all call the same functions.
"""

from analysis.rule import *  # noqa: F403
from analysis.rule import __all__ as _rule_all

__all__ = [*_rule_all]
