"""Fisher's exact p, written out for speed, against scipy's."""

import numpy as np
import pytest
from scipy.stats import fisher_exact

from analysis.fisher import fisher_p


def test_the_lady_tasting_tea_as_fisher_gave_it():
    # Fisher (1935), The Design of Experiments: 3 of 4 cups right, p = 34/70.
    assert fisher_p(3, 1, 1, 3) == pytest.approx(34 / 70)


@pytest.mark.parametrize("largest", [8, 60, 20_000])
def test_it_agrees_with_scipy_on_many_tables(largest):
    rng = np.random.default_rng(largest)
    for a, b, c, d in rng.integers(0, largest, size=(300, 4)).tolist():
        expected = fisher_exact([[a, b], [c, d]]).pvalue
        assert fisher_p(a, b, c, d) == pytest.approx(expected, rel=1e-8, abs=1e-300)


@pytest.mark.parametrize("table", [(0, 0, 0, 0), (5, 0, 0, 0), (0, 7, 0, 3)])
def test_a_table_with_an_empty_margin_has_p_one(table):
    assert fisher_p(*table) == 1.0 == fisher_exact(np.reshape(table, (2, 2))).pvalue


@pytest.mark.parametrize("cells", [(-1, 2, 3, 4), (1.5, 2, 3, 4), (True, 1, 1, 1)])
def test_cells_must_be_whole_counts(cells):
    with pytest.raises(ValueError, match="whole numbers"):
        fisher_p(*cells)
