"""Statistics for the orthotic trial tracker: pure functions on DataFrames.

No Flask, no SQLAlchemy, no I/O: the web app, the command line and the tests
all call the same functions.
"""

from analysis import accuracy, band, rates, rule
from analysis.accuracy import *
from analysis.band import *
from analysis.rates import *
from analysis.rule import *

__all__ = rule.__all__ + rates.__all__ + band.__all__ + accuracy.__all__
