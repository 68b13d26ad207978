"""Hand-built trial frames for the statistics tests.

The frames look like what the web app hands to ``analysis``: one row per
trial, text as pandas' ``str`` dtype unless a test asks for ``object``.
"""

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import pandas as pd

FIRST_DAY = date(2024, 1, 1)

TEXT_COLUMNS = ("intervention", "product", "activity", "therapist", "outcome_rating")


def make_trials(
    rows: Iterable[Mapping] = (), *, text_dtype: str = "str", **defaults
) -> pd.DataFrame:
    """A trials frame: each row overrides the defaults, which ``defaults`` override.

    Without overrides every trial is its own patient, a day after the one
    before, an insole that takes stair pain from 6 to 3 with no outcome yet.
    """
    records = []
    for number, row in enumerate(rows, start=1):
        record = {
            "trial_id": number,
            "patient_id": number,
            "intervention": "insole",
            "product": "Formthotics",
            "activity": "stairs",
            "therapist": "AB",
            "trial_date": FIRST_DAY + timedelta(days=number - 1),
            "pain_without": 6,
            "pain_with": 3,
            "outcome_rating": None,
            "outcome_pain": None,
        }
        record.update(defaults)
        record.update(row)
        records.append(record)
    columns = [
        "trial_id",
        "patient_id",
        "intervention",
        "product",
        "activity",
        "therapist",
        "trial_date",
        "pain_without",
        "pain_with",
        "outcome_rating",
        "outcome_pain",
    ]
    trials = pd.DataFrame.from_records(records, columns=columns)
    trials["trial_date"] = pd.to_datetime(trials["trial_date"])
    trials["outcome_pain"] = trials["outcome_pain"].astype("Int64")
    for column in ("trial_id", "pain_without", "pain_with"):
        trials[column] = trials[column].astype("int64")
    for column in TEXT_COLUMNS:
        trials[column] = trials[column].astype(text_dtype)
    return trials


def from_two_by_two(tp: int, fp: int, fn: int, tn: int, **defaults) -> pd.DataFrame:
    """One trial per patient reproducing a 2x2 table of relief against benefit.

    Relief is 6 -> 2 (relief under every criterion), no relief is 6 -> 6;
    benefit is ``markedly_improved``, no benefit ``same``.
    """
    cells = [
        (tp, 2, "markedly_improved"),
        (fp, 2, "same"),
        (fn, 6, "markedly_improved"),
        (tn, 6, "same"),
    ]
    rows = [
        {"pain_without": 6, "pain_with": pain_with, "outcome_rating": rating}
        for size, pain_with, rating in cells
        for _ in range(size)
    ]
    return make_trials(rows, **defaults)
