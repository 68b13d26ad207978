from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from analysis import (
    COMPLETENESS_COLUMNS,
    INTERVENTIONS,
    check_trials,
    follow_up_completeness,
    follow_up_statuses,
    proportion,
)
from analysis.follow_up import FOLLOW_UP_STATUSES, follow_up_status, status_window
from tests.analysis.builders import make_trials

TODAY = date(2024, 7, 1)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def with_follow_up_columns(trials: pd.DataFrame, sources, lost) -> pd.DataFrame:
    """The columns the web app's frame adds: the outcome's source, the lost mark."""
    trials = trials.copy()
    trials["outcome_source"] = pd.Categorical(sources, categories=["clinic", "patient"])
    trials["lost"] = np.array(lost, dtype=bool)
    return trials


def trial(days_ago: int, source: str | None = None, lost: bool = False, **row):
    """One row: ``source`` gives the trial an outcome (rated as ``row`` says)."""
    row.setdefault("outcome_rating", "markedly_improved" if source else None)
    return {"trial_date": ago(days_ago), "_source": source, "_lost": lost} | row


def frame(rows: list[dict]) -> pd.DataFrame:
    sources = [row.pop("_source") for row in rows]
    lost = [row.pop("_lost") for row in rows]
    return with_follow_up_columns(make_trials(rows), sources, lost)


def clinic():
    """Every status in insoles and taping, no braces; counted by hand below.

    With the default weeks (6, 12) the outcome is due from day 42 to day 112.
    Relief is the default 6 -> 3; no relief is 6 -> 6.
    """
    no_relief = {"pain_with": 6}
    return frame(
        [
            # Insoles
            trial(200, "clinic", patient_id=1),
            trial(100, "patient", outcome_rating="same", **no_relief),
            trial(100),  # due
            trial(30),  # awaiting
            trial(150, **no_relief),  # overdue
            trial(20, lost=True),  # lost before the window opened: still lost
            trial(50, patient_id=1),  # patient 1's second insole: due, trial unit
            trial(150, pain_without=0, pain_with=0),  # not assessable
            # Taping
            trial(200, "patient", lost=True, patient_id=1, intervention="taping"),
            trial(112, intervention="taping", **no_relief),  # due, the last day
            trial(113, intervention="taping"),  # overdue, the first day
            trial(41, intervention="taping"),  # awaiting, the last day
        ]
    )


def completeness(trials=None, **options) -> pd.DataFrame:
    """The figures by aid, the row for all aids last (its index None)."""
    options = {"today": TODAY} | options
    trials = clinic() if trials is None else trials
    return follow_up_completeness(trials, **options).set_index("intervention")


def overall(trials=None, **options) -> pd.Series:
    return completeness(trials, **options).iloc[-1]


STATUS_COLUMNS = [
    "counted",
    "outcome_clinic",
    "outcome_patient",
    "awaiting",
    "due",
    "overdue",
    "lost",
]


def rate(figures: pd.Series, name: str) -> tuple[int, int]:
    return int(figures[f"{name}_count"]), int(figures[f"{name}_n"])


def test_statuses_are_counted_per_aid_under_the_patient_unit():
    figures = completeness()

    assert figures.loc["insole", STATUS_COLUMNS].tolist() == [6, 1, 1, 1, 1, 1, 1]
    assert figures.loc["taping", STATUS_COLUMNS].tolist() == [4, 0, 1, 1, 1, 1, 0]
    assert figures.loc["brace", STATUS_COLUMNS].tolist() == [0] * 7


def test_the_follow_up_rate_is_out_of_the_trials_past_awaiting():
    figures = completeness()

    assert rate(figures.loc["insole"], "follow_up") == (2, 5)
    assert rate(figures.loc["taping"], "follow_up") == (1, 3)
    assert figures.loc["insole", "follow_up_rate"] == pytest.approx(2 / 5)


def test_the_follow_up_rate_is_split_by_immediate_relief():
    figures = completeness()

    assert rate(figures.loc["insole"], "follow_up_with_relief") == (1, 3)
    assert rate(figures.loc["insole"], "follow_up_without_relief") == (1, 2)
    assert rate(figures.loc["taping"], "follow_up_with_relief") == (1, 2)
    assert rate(figures.loc["taping"], "follow_up_without_relief") == (0, 1)


def test_the_trial_unit_counts_repeat_trials_of_an_aid():
    insole = completeness(unit="trial").loc["insole"]

    assert insole[STATUS_COLUMNS].tolist() == [7, 1, 1, 1, 2, 1, 1]
    assert rate(insole, "follow_up") == (2, 6)
    assert rate(insole, "follow_up_with_relief") == (1, 4)


def test_all_aids_together_count_each_patient_once():
    row = overall()

    # Patient 1's taping trial (a patient's report, lost) is not their first
    # of any aid: their first insole is. The other ten are their patients' first.
    assert row[STATUS_COLUMNS].tolist() == [9, 1, 1, 2, 2, 2, 1]
    assert rate(row, "follow_up") == (2, 7)
    assert rate(row, "follow_up_with_relief") == (1, 4)
    assert rate(row, "follow_up_without_relief") == (1, 3)


def test_all_aids_together_under_the_trial_unit_add_up_the_aids():
    figures = completeness(unit="trial")

    pd.testing.assert_series_equal(
        figures.iloc[-1][STATUS_COLUMNS],
        figures.iloc[:-1][STATUS_COLUMNS].sum(),
        check_names=False,
        check_dtype=False,
    )


def test_the_intervals_are_those_of_proportion():
    insole = completeness().loc["insole"]

    for name, (count, n) in {
        "follow_up": (2, 5),
        "follow_up_with_relief": (1, 3),
        "follow_up_without_relief": (1, 2),
    }.items():
        expected = proportion(count, n)
        assert (insole[f"{name}_wilson_low"], insole[f"{name}_wilson_high"]) == (
            pytest.approx(expected.wilson)
        )
        assert (insole[f"{name}_exact_low"], insole[f"{name}_exact_high"]) == (
            pytest.approx(expected.exact)
        )


def test_an_aid_without_trials_has_zeros_and_no_rates():
    brace = completeness().loc["brace"]

    assert (brace[STATUS_COLUMNS] == 0).all()
    assert brace.filter(like="_rate").isna().all()
    assert brace.filter(like="_low").isna().all()


def test_every_aid_shows_in_a_fixed_order_then_all_aids():
    figures = follow_up_completeness(clinic(), today=TODAY)

    assert figures["intervention"].tolist() == [*INTERVENTIONS, None]
    assert list(figures.columns) == ["intervention", *COMPLETENESS_COLUMNS]


def test_the_relief_criterion_moves_trials_between_the_relief_groups():
    # 6 -> 5 is relief under "any", not under "at least 2 points".
    trials = frame([trial(100, "clinic", pain_with=5), trial(100, pain_with=5)])

    under_any = overall(trials)
    under_two = overall(trials, criterion="two_points")

    assert rate(under_any, "follow_up_with_relief") == (1, 2)
    assert rate(under_two, "follow_up_with_relief") == (0, 0)
    assert rate(under_two, "follow_up_without_relief") == (1, 2)


def test_the_weeks_move_the_window():
    trials = frame([trial(60), trial(100)])

    default = overall(trials)
    later = overall(trials, minimum_weeks=10, due_weeks=10)

    assert default[["awaiting", "due", "overdue"]].tolist() == [0, 2, 0]
    # From day 70 to day 98: 60 days is awaiting, 100 days overdue.
    assert later[["awaiting", "due", "overdue"]].tolist() == [1, 0, 1]


def test_no_trials_at_all():
    empty = frame([])

    figures = completeness(empty)

    assert len(figures) == 4
    assert (figures[STATUS_COLUMNS] == 0).all().all()
    assert figures.filter(like="_rate").isna().all().all()


def test_a_checked_frame_gives_the_same_figures():
    trials = clinic()
    checked = check_trials(trials, "moderately_improved")

    pd.testing.assert_frame_equal(
        completeness(checked, benefit_definition="moderately_improved"),
        completeness(trials),
    )


def test_the_trials_frame_is_left_as_it_was():
    trials = clinic()
    before = trials.copy()

    completeness(trials)
    follow_up_statuses(trials, TODAY)

    pd.testing.assert_frame_equal(trials, before)


SETTINGS = [(6, 12), (0, 0), (8, 8), (1, 26)]


@pytest.mark.parametrize(("minimum_weeks", "due_weeks"), SETTINGS)
def test_statuses_match_the_scalar_status_around_every_boundary(
    minimum_weeks, due_weeks
):
    first, last = status_window(minimum_weeks, due_weeks)
    days = sorted(
        {d for edge in (0, first, last, last + 365) for d in range(edge - 2, edge + 3)}
    )
    rows = [
        (days_ago, source, lost)
        for days_ago in days
        for source in (None, "clinic", "patient")
        for lost in (False, True)
    ]
    trials = frame([trial(d, source, lost) for d, source, lost in rows])

    statuses = follow_up_statuses(
        trials, TODAY, minimum_weeks=minimum_weeks, due_weeks=due_weeks
    )

    expected = [
        follow_up_status(
            ago(d), source is not None, lost, TODAY, minimum_weeks, due_weeks
        ).value
        for d, source, lost in rows
    ]
    assert list(statuses.categories) == list(FOLLOW_UP_STATUSES)
    assert statuses.astype(str).tolist() == expected


def test_statuses_of_trials_dated_with_a_time_of_day_follow_the_day():
    trials = frame([trial(42)])
    trials["trial_date"] += pd.Timedelta(hours=23)

    assert follow_up_statuses(trials, TODAY).astype(str).tolist() == ["due"]


def test_today_may_be_a_timestamp():
    trials = clinic()

    pd.testing.assert_frame_equal(
        completeness(trials, today=pd.Timestamp(TODAY)), completeness(trials)
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns="lost"), r"lacks columns \['lost'\]"),
        (lambda t: t.drop(columns="outcome_source"), "lacks columns"),
        (lambda t: t.assign(lost=[None] + [False] * 11), "lost must hold True"),
        (lambda t: t.assign(lost=[1] * 12), "lost must hold True"),
        (
            lambda t: t.assign(outcome_source=t["outcome_source"].astype(object)),
            None,
        ),
        (
            lambda t: t.assign(
                outcome_source=t["outcome_source"].astype(object).fillna("phone")
            ),
            "unknown outcome_source",
        ),
        (
            lambda t: t.assign(outcome_source=None),
            "outcome_source is missing for some trials with an outcome",
        ),
        (
            lambda t: t.assign(outcome_rating=None),
            "outcome_source is given for trials without an outcome",
        ),
    ],
)
def test_unusable_follow_up_columns_are_refused(change, message):
    trials = change(clinic())
    if message is None:
        pd.testing.assert_frame_equal(completeness(trials), completeness())
        return
    with pytest.raises(ValueError, match=message):
        completeness(trials)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"today": "2024-07-01"}, TypeError, "today must be a date"),
        ({"today": None}, TypeError, "today must be a date"),
        ({"minimum_weeks": 13}, ValueError, "minimum_weeks must be"),
        ({"minimum_weeks": -1, "due_weeks": 0}, ValueError, "minimum_weeks must be"),
        ({"due_weeks": 12.0}, TypeError, "whole number"),
        ({"unit": "visit"}, ValueError, "unknown counting unit"),
        ({"criterion": "half"}, ValueError, "unknown relief criterion"),
    ],
)
def test_unusable_options_are_refused(options, error, message):
    with pytest.raises(error, match=message):
        completeness(**options)
