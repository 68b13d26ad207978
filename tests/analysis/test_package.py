"""The analysis tests see the library itself, never their own folder."""

from pathlib import Path

import analysis
import tests.analysis

ROOT = Path(__file__).parents[2]


def test_analysis_is_the_top_level_package():
    assert Path(analysis.__file__) == ROOT / "analysis" / "__init__.py"
    assert tests.analysis.__name__ != analysis.__name__
