"""Checking the trials frame and choosing the trials that count.

Shared by the response rates and the rule check so both read the frame, and
count patients, the same way. Everything is done once on NumPy arrays because
the dashboard recomputes over the whole clinic history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from analysis.rule import (
    BENEFIT_DEFINITIONS,
    RELIEF_CRITERIA,
    BenefitDefinition,
    ReliefCriterion,
    immediate_relief,
    long_term_benefit_column,
)

Intervention = Literal["insole", "taping", "brace"]
INTERVENTIONS: tuple[Intervention, ...] = ("insole", "taping", "brace")
CountingUnit = Literal["patient", "trial"]
COUNTING_UNITS: tuple[CountingUnit, ...] = ("patient", "trial")

TRIAL_COLUMNS = (
    "trial_id",
    "patient_id",
    "intervention",
    "trial_date",
    "pain_without",
    "pain_with",
    "outcome_rating",
)


def check_choice(name: str, value: object, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {choices}")


@dataclass(frozen=True, eq=False)
class CheckedTrials:
    """A trials frame checked once, its columns as arrays, row for row.

    Made by :func:`check_trials`. The statistics functions accept one in place
    of the frame, so several of them (rates by aid, overall, by activity...,
    the rule check) share one check and one choice of the trials that count.
    It belongs to the frame it was made from, which must not change since.
    """

    frame: pd.DataFrame
    benefit_definition: BenefitDefinition
    pain_without: np.ndarray
    pain_with: np.ndarray
    intervention: np.ndarray  # index into INTERVENTIONS
    patient: np.ndarray  # a number per patient, from 0
    trial_date: np.ndarray  # datetime64
    chronological: np.ndarray  # positions by trial_date, then trial_id
    has_outcome: np.ndarray
    benefit: np.ndarray  # False where there is no outcome
    _counted: dict = field(default_factory=dict, repr=False)
    _relief: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.pain_without)

    @property
    def assessable(self) -> np.ndarray:
        return self.pain_without > 0

    def relief(self, criterion: ReliefCriterion) -> np.ndarray:
        """Immediate relief per trial; meaningless where not assessable."""
        if criterion not in self._relief:
            relief = np.asarray(
                immediate_relief(self.pain_without, self.pain_with, criterion)
            )
            relief.flags.writeable = False
            self._relief[criterion] = relief
        return self._relief[criterion]

    def counted(
        self, unit: CountingUnit, outcome_required: bool, pooled: bool = False
    ) -> np.ndarray:
        """Positions of the trials that count, in frame order.

        Only assessable trials count (and, for long-term benefit, only those
        with an outcome). Under the patient unit a patient's first such trial
        counts, by date then trial_id, so repeat trials do not weigh a
        patient more than others: the first of each aid, or with ``pooled``
        (a figure over all aids) the first of any aid, so the patient counts
        once. Under the trial unit every such trial counts, pooled or not.
        See :func:`counting_note` for the words.
        """
        pooled = pooled and unit == "patient"
        key = (unit, outcome_required, pooled)
        if key not in self._counted:
            positions = self._count(unit, outcome_required, pooled)
            positions.flags.writeable = False
            self._counted[key] = positions
        return self._counted[key]

    def patients_among(self, positions: np.ndarray) -> int:
        """How many patients the trials at ``positions`` come from."""
        return int(np.count_nonzero(np.bincount(self.patient[positions])))

    def _count(
        self, unit: CountingUnit, outcome_required: bool, pooled: bool
    ) -> np.ndarray:
        eligible = self.assessable
        if outcome_required:
            eligible = eligible & self.has_outcome
        if unit == "trial":
            return np.flatnonzero(eligible)
        in_order = self.chronological[eligible[self.chronological]]
        counted_once = self.patient[in_order]
        if not pooled:
            counted_once = (
                counted_once * len(INTERVENTIONS) + self.intervention[in_order]
            )
        first = ~pd.Series(counted_once).duplicated().to_numpy()
        return np.sort(in_order[first])


def counting_note(
    unit: CountingUnit, pooled: bool = False, outcome_required: bool = False
) -> str:
    """Which trials a figure counts, in words a page can show beside it.

    ``pooled`` is for a figure over all aids (the overall rates, the rule
    check, the ROC); ``outcome_required`` for the long-term benefit rate and
    the rule check, which only use trials with an outcome.

    Examples
    --------
    >>> counting_note("patient", pooled=True, outcome_required=True)
    'each patient once: their first assessable trial with an outcome (of any aid)'
    >>> counting_note("trial")
    'every assessable trial; a patient may count more than once'
    """
    check_choice("counting unit", unit, COUNTING_UNITS)
    trial = "assessable trial"
    if outcome_required:
        trial += " with an outcome"
    if unit == "trial":
        return f"every {trial}; a patient may count more than once"
    if pooled:
        return f"each patient once: their first {trial} (of any aid)"
    return f"each patient once per aid: their first {trial} of that aid"


def check_trials(
    trials: pd.DataFrame | CheckedTrials,
    benefit_definition: BenefitDefinition = "markedly_improved",
    criterion: ReliefCriterion = "any",
    extra_columns: tuple[str, ...] = (),
) -> CheckedTrials:
    """Check a trials frame and return its columns as arrays.

    Raises ValueError naming the column when a column is missing or holds a
    value the statistics cannot use. Given a :class:`CheckedTrials` already,
    returns it after checking it was made for ``benefit_definition`` and has
    ``extra_columns``.
    """
    check_choice("relief criterion", criterion, RELIEF_CRITERIA)
    if isinstance(trials, CheckedTrials):
        if trials.benefit_definition != benefit_definition:
            raise ValueError(
                f"the trials were checked for benefit definition "
                f"{trials.benefit_definition!r}, not {benefit_definition!r}"
            )
        _check_columns(trials.frame, extra_columns)
        return trials
    if not isinstance(trials, pd.DataFrame):
        raise TypeError(f"trials must be a DataFrame, not {type(trials).__name__}")
    check_choice("benefit definition", benefit_definition, BENEFIT_DEFINITIONS)
    _check_columns(trials, extra_columns)

    patient = pd.factorize(trials["patient_id"])[0]
    if (patient < 0).any():
        raise ValueError("patient_id is missing for some trials")
    trial_date = _dates(trials["trial_date"])
    return CheckedTrials(
        frame=trials,
        benefit_definition=benefit_definition,
        pain_without=_pain_scores(trials["pain_without"]),
        pain_with=_pain_scores(trials["pain_with"]),
        intervention=_interventions(trials["intervention"]),
        patient=patient,
        trial_date=trial_date,
        chronological=_chronological(trial_date, trials["trial_id"]),
        **_outcomes(trials["outcome_rating"], benefit_definition),
    )


def _check_columns(trials: pd.DataFrame, extra_columns: tuple[str, ...]) -> None:
    missing = [c for c in (*TRIAL_COLUMNS, *extra_columns) if c not in trials]
    if missing:
        raise ValueError(f"trials lacks columns {missing}")


def _pain_scores(scores: pd.Series) -> np.ndarray:
    name = scores.name
    if scores.isna().any():
        raise ValueError(f"{name} is missing for some trials")
    # Refuse text such as "5": NumPy would quietly turn it into a number.
    is_number = pd.api.types.is_numeric_dtype(scores) or (
        scores.dtype == object
        and pd.api.types.infer_dtype(scores)
        in ("integer", "floating", "mixed-integer-float", "empty")
    )
    if not is_number or pd.api.types.is_bool_dtype(scores):
        raise ValueError(f"{name} must hold whole numbers from 0 to 10")
    values = scores.to_numpy(dtype="float64")
    if not ((values >= 0) & (values <= 10) & (values == np.floor(values))).all():
        raise ValueError(f"{name} must hold whole numbers from 0 to 10")
    return values.astype("int64")


def _interventions(interventions: pd.Series) -> np.ndarray:
    codes, names = pd.factorize(interventions)
    if (codes < 0).any():
        raise ValueError("intervention is missing for some trials")
    unknown = sorted(set(names) - set(INTERVENTIONS))
    if unknown:
        raise ValueError(
            f"unknown interventions {unknown}; expected one of {INTERVENTIONS}"
        )
    lookup = np.array([INTERVENTIONS.index(name) for name in names], dtype="int64")
    return lookup[codes]


def _dates(dates: pd.Series) -> np.ndarray:
    # Numbers would pass as nanoseconds since 1970: refuse them.
    if pd.api.types.is_numeric_dtype(dates):
        raise ValueError("trial_date must hold dates, not numbers")
    try:
        dates = pd.to_datetime(dates, format="ISO8601")
    except (TypeError, ValueError) as error:
        raise ValueError("trial_date must hold dates or ISO 8601 text") from error
    if dates.isna().any():
        raise ValueError("trial_date is missing for some trials")
    return dates.to_numpy()


def _chronological(trial_date: np.ndarray, trial_ids: pd.Series) -> np.ndarray:
    """Positions ordered by date, then trial_id (a stable sort on top of another)."""
    ids = trial_ids.to_numpy()
    if ids.dtype.kind in "iu" and (len(ids) < 2 or (ids[1:] > ids[:-1]).all()):
        # Already in trial_id order, as the web app's frames come: all distinct.
        by_id = np.arange(len(ids))
    else:
        id_rank, unique_ids = pd.factorize(trial_ids, sort=True)
        if (id_rank < 0).any():
            raise ValueError("trial_id is missing for some trials")
        if len(unique_ids) < len(trial_ids):
            repeated = trial_ids[trial_ids.duplicated()].unique()[:5].tolist()
            raise ValueError(f"trial_id must be unique; repeated: {repeated}")
        by_id = np.empty(len(id_rank), dtype="int64")
        by_id[id_rank] = np.arange(len(id_rank))
    return by_id[_stable_order(trial_date[by_id])]


def _stable_order(dates: np.ndarray) -> np.ndarray:
    """``np.argsort(dates, kind="stable")``, as a radix sort when dates are whole days.

    A clinic's trials span far fewer than 65,536 days, and NumPy sorts 16-bit
    integers stably by radix: several times faster than a merge sort.
    """
    if len(dates):
        days = dates.astype("datetime64[D]")
        first, last = days.min(), days.max()
        if (last - first).astype("int64") < 2**16 and (days == dates).all():
            offsets = (days - first).astype("int64").astype("uint16")
            return np.argsort(offsets, kind="stable")
    return np.argsort(dates, kind="stable")


def _outcomes(
    ratings: pd.Series, benefit_definition: BenefitDefinition
) -> dict[str, np.ndarray]:
    # Judge each distinct rating once with the rule, then spread by code.
    codes, distinct = pd.factorize(ratings)
    benefit_per_rating = long_term_benefit_column(
        pd.Series(distinct, dtype=object), benefit_definition
    ).to_numpy(dtype=bool)
    has_outcome = codes >= 0
    benefit = np.zeros(len(codes), dtype=bool)
    benefit[has_outcome] = benefit_per_rating[codes[has_outcome]]
    return {"has_outcome": has_outcome, "benefit": benefit}
