"""The one bridge from the database to the statistics: filtered trials as a DataFrame.

One query reads only the columns the analysis needs, straight from the
DB-API cursor: no ORM objects, no SQLAlchemy rows. Categories travel as small
integer codes (``CASE`` in SQL, :meth:`pandas.Categorical.from_codes` here)
and dates as day numbers, because turning a million Python strings into
columns costs more than the query itself.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analysis.rule import GLOBAL_RATINGS, outcome_follow_ups

from ..extensions import db
from ..labels import ACTIVITIES, FOLLOW_UP_SOURCES, INTERVENTIONS
from ..models import FollowUp, Patient, Site, Trial, User
from ..settings import ClinicSettings, clinic_settings
from ..storage.sql import days_between
from .filters import TrialFilters

#: The columns every frame has, as :mod:`analysis` expects them.
SUMMARY_COLUMNS = (
    "trial_id",
    "patient_id",
    "intervention",
    "trial_date",
    "pain_without",
    "pain_with",
    "outcome_rating",
    "outcome_source",
    "lost",
    "outcome_pain",
    "outcome_still_using",
)
#: The further columns of a detailed frame (tables by activity, product, therapist).
DETAIL_COLUMNS = ("activity", "product", "therapist")
#: The query's column holding the small columns in one integer.
PACKED = "small_columns"
#: The query's column holding the trial's day and the follow-up's interval.
DAYS = "days"
#: The interval's share of :data:`DAYS`: up to 4,194,302 days, -1 when missing.
INTERVAL_SPAN = 1 << 22

EPOCH = date(1970, 1, 1)
NONE = -1
CHUNK_ROWS = 50_000


def trials_frame(
    filters: TrialFilters,
    settings: ClinicSettings | None = None,
    detail: bool = True,
    by_site: bool = False,
) -> pd.DataFrame:
    """One row per trial matching ``filters``, with its outcome follow-up.

    Voided trials, trials of voided patients and voided follow-ups are left
    out. The outcome is chosen from the follow-ups at or after the minimum
    interval by :func:`analysis.rule.outcome_follow_ups`; ``outcome_rating``,
    ``outcome_pain`` and ``outcome_still_using`` (a nullable boolean) are
    missing for trials without one. ``therapist`` is the user name of
    whoever recorded the trial (read as the user id and named afterwards).
    Without ``detail`` only :data:`SUMMARY_COLUMNS` are read, which is all
    the summary needs. With ``by_site`` there is a ``site`` column too: the
    name of the patient's site, for the tables by site.
    """
    settings = settings or clinic_settings()
    columns = read_columns(trials_query(filters, settings, detail, by_site))
    return frame_from_columns(columns, settings, detail)


def read_columns(query: sa.Select) -> dict[str, np.ndarray]:
    """The rows of a :func:`trials_query` as one array per column, as read."""
    names = [column.name for column in query.selected_columns]
    # The session's own connection: the same transaction as the settings read.
    result = db.session.connection().execute(query)
    # Straight from the DB-API cursor: SQLAlchemy rows would double the time.
    # In chunks, so a million rows never sit in memory as Python tuples.
    chunks = [_columns([], names)]
    while rows := result.cursor.fetchmany(CHUNK_ROWS):
        chunks.append(_columns(rows, names))
    result.close()
    return {name: np.concatenate([c[name] for c in chunks]) for name in names}


def frame_from_columns(
    columns: dict[str, np.ndarray], settings: ClinicSettings, detail: bool = True
) -> pd.DataFrame:
    """The frame of :func:`trials_frame` from the columns :func:`read_columns` gave."""
    columns = dict(columns)
    columns |= _unpacked(columns.pop(PACKED), _small_columns(detail))
    columns |= _unpacked_days(columns.pop(DAYS))
    # Names read after the trials, so every user or site one has is there.
    connection = db.session.connection()
    if detail:
        users = connection.execute(sa.select(User.id, User.username))
        columns["therapist"] = _named(columns["therapist"], dict(users.all()))
    if "site" in columns:
        present = np.unique(columns["site"]).tolist()
        sites = connection.execute(
            sa.select(Site.id, Site.name).where(Site.id.in_(present))
        )
        columns["site"] = _named(columns["site"], dict(sites.all()))
    return _one_row_per_trial(columns, settings, detail)


def _named(ids: np.ndarray, names: dict[int, str]) -> pd.Categorical:
    """Ids as a categorical of their names (missing where the id is -1)."""
    categories = sorted(names.values())
    code = {name: number for number, name in enumerate(categories)}
    codes = pd.Series(ids).map({i: code[name] for i, name in names.items()})
    return pd.Categorical.from_codes(
        codes.fillna(NONE).to_numpy("int64"), categories=categories
    )


def trials_query(
    filters: TrialFilters,
    settings: ClinicSettings,
    detail: bool = True,
    by_site: bool = False,
) -> sa.Select:
    """The query behind :func:`trials_frame`: a row per trial and eligible follow-up."""
    days = days_between(FollowUp.follow_up_date, Trial.trial_date)
    eligible = sa.and_(
        FollowUp.trial_id == Trial.id,
        FollowUp.voided_at.is_(None),
        days >= settings.follow_up_minimum_weeks * 7,
    )
    small = _small_columns(detail)
    selected = [
        Trial.id.label("trial_id"),
        Trial.patient_id.label("patient_id"),
        _packed_days(
            days_between(Trial.trial_date, sa.literal(EPOCH, sa.Date)),
            sa.func.coalesce(days, NONE),
        ).label(DAYS),
        sa.func.coalesce(FollowUp.id, NONE).label("follow_up_id"),
        _packed(small).label(PACKED),
    ]
    if detail:
        selected += [
            Trial.product.label("product"),
            # The id, named after the query: user names are few, trials many.
            sa.func.coalesce(Trial.recorded_by_id, NONE).label("therapist"),
        ]
    if by_site:
        # The id, named after the query like the therapists.
        selected.append(Patient.site_id.label("site"))
    query = sa.select(*selected).select_from(Trial).outerjoin(FollowUp, eligible)
    # Trials of voided patients are left out. PostgreSQL would hash every
    # patient to join them; excluding the few voided ones with NOT EXISTS
    # takes a third off its time at 1M trials. SQLite looks each trial's
    # patient up by its key either way, and the join is the quicker lookup.
    joined = by_site or db.engine.dialect.name != "postgresql"
    if joined:
        query = query.join(Patient, Patient.id == Trial.patient_id)
    return filters.apply(query, patient_joined=joined)


def _small_columns(detail: bool) -> list[tuple[str, sa.ColumnElement, int]]:
    """The columns with a handful of values each: name, SQL, and how many values.

    Each is a category code, a pain score (0-10, CHECKed by the database) or
    a flag (0 or 1), or -1 when missing, so all of them fit in one integer
    (see :func:`_packed`).
    """
    pain = 11
    columns = [
        ("intervention", _code(Trial.intervention, INTERVENTIONS), len(INTERVENTIONS)),
        ("pain_without", sa.func.coalesce(Trial.pain_without, NONE), pain),
        ("pain_with", sa.func.coalesce(Trial.pain_with, NONE), pain),
        ("outcome_rating", _code(FollowUp.global_rating, GLOBAL_RATINGS), 5),
        (
            "outcome_source",
            _code(FollowUp.source, FOLLOW_UP_SOURCES),
            len(FOLLOW_UP_SOURCES),
        ),
        ("lost", sa.case((Trial.lost_at.is_not(None), 1), else_=0), 2),
        ("outcome_pain", sa.func.coalesce(FollowUp.pain, NONE), pain),
        ("outcome_still_using", _flag(FollowUp.still_using), 2),
    ]
    if detail:
        columns.append(("activity", _code(Trial.activity, ACTIVITIES), len(ACTIVITIES)))
    return columns


def _packed(small: list[tuple[str, sa.ColumnElement, int]]) -> sa.ColumnElement:
    """The small columns as one integer, a few bits each, the first highest.

    A million rows of one integer cross from the database driver several
    times faster than of eight: each value costs a Python object.
    """
    packed = sa.literal(0, sa.Integer)
    for _, column, count in small:
        packed = packed * (1 << _bits(count)) + (column + 1)
    return packed


def _packed_days(trial_day: sa.ColumnElement, interval: sa.ColumnElement):
    """The trial's day number and the follow-up's interval in days as one integer.

    One column fewer to cross from the driver (see :func:`_packed`). The day
    number may be negative (before 1970); the interval is at least -1.
    """
    # BIGINT: PostgreSQL's date difference is a 32-bit integer.
    return sa.cast(trial_day, sa.BigInteger) * INTERVAL_SPAN + (interval + 1)


def _unpacked_days(days: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`_packed_days` undone, by floor division so negative days work."""
    trial_day, interval = np.divmod(days, INTERVAL_SPAN)
    return {"trial_day": trial_day, "follow_up_days": interval - 1}


def _unpacked(
    packed: np.ndarray, small: list[tuple[str, sa.ColumnElement, int]]
) -> dict[str, np.ndarray]:
    """:func:`_packed` undone: each small column again, -1 where missing."""
    columns = {}
    shift = 0
    for name, _, count in reversed(small):
        bits = _bits(count)
        columns[name] = ((packed >> shift) & ((1 << bits) - 1)) - 1
        shift += bits
    return columns


def _bits(count: int) -> int:
    """Bits for codes 0 to ``count - 1`` and -1, stored plus one: 0 to ``count``."""
    return count.bit_length()


def _flag(column) -> sa.Case:
    """A boolean column as 1 or 0, -1 when NULL (no follow-up)."""
    return sa.case((column.is_(True), 1), (column.is_(False), 0), else_=NONE)


def _code(column, values) -> sa.Case:
    """A column's position in ``values`` (-1 when NULL), for categories."""
    codes = {value: code for code, value in enumerate(values)}
    return sa.case(codes, value=column, else_=NONE)


def _columns(rows: list[tuple], names: list[str]) -> dict[str, np.ndarray]:
    """The cursor's rows as one array per column (text as objects)."""
    text = {"product"}
    if not rows:
        return {
            name: np.array([], dtype=object if name in text else "int64")
            for name in names
        }
    if not text & set(names):
        table = np.array(rows, dtype="int64")
        return {name: table[:, i] for i, name in enumerate(names)}
    # One table of objects, then each column as its type: twice as fast as zip().
    table = np.array(rows, dtype=object)
    return {
        name: table[:, i] if name in text else table[:, i].astype("int64")
        for i, name in enumerate(names)
    }


def _one_row_per_trial(
    columns: dict[str, np.ndarray], settings: ClinicSettings, detail: bool
) -> pd.DataFrame:
    """Keep each trial's outcome follow-up among its rows; build the frame."""
    trial_id = columns["trial_id"]
    in_order = len(trial_id) < 2 or bool((trial_id[1:] >= trial_id[:-1]).all())
    if in_order:
        # As the databases scan trials: a trial's rows side by side, no hashing.
        same = trial_id[1:] == trial_id[:-1]
        repeated = np.zeros(len(trial_id), dtype=bool)
        repeated[1:] |= same
        repeated[:-1] |= same
    else:
        repeated = pd.Series(trial_id).duplicated(keep=False).to_numpy()
    keep = ~repeated
    if repeated.any():
        # Several eligible follow-ups: the analysis chooses, earliest id on a tie.
        candidates = pd.DataFrame(
            {
                "trial_id": trial_id[repeated],
                "days": columns["follow_up_days"][repeated],
                "follow_up_id": columns["follow_up_id"][repeated],
                "row": np.flatnonzero(repeated),
            }
        ).sort_values("follow_up_id", kind="stable")
        chosen = outcome_follow_ups(
            candidates, settings.follow_up_minimum_weeks, settings.follow_up_due_weeks
        )
        keep[chosen["row"].to_numpy()] = True
    rows = np.flatnonzero(keep)
    if not in_order:
        rows = rows[np.argsort(trial_id[rows], kind="stable")]
    outcome_pain = columns["outcome_pain"][rows].astype("float64")
    outcome_pain[outcome_pain == NONE] = np.nan
    still_using = columns["outcome_still_using"][rows]

    frame = {
        "trial_id": trial_id[rows],
        "patient_id": columns["patient_id"][rows],
        "intervention": _categories(columns["intervention"][rows], INTERVENTIONS),
        "trial_date": columns["trial_day"][rows].astype("datetime64[D]"),
        "pain_without": columns["pain_without"][rows],
        "pain_with": columns["pain_with"][rows],
        "outcome_rating": _categories(columns["outcome_rating"][rows], GLOBAL_RATINGS),
        "outcome_source": _categories(
            columns["outcome_source"][rows], FOLLOW_UP_SOURCES
        ),
        "lost": columns["lost"][rows] == 1,
        "outcome_pain": outcome_pain,
        "outcome_still_using": pd.arrays.BooleanArray(
            still_using == 1, still_using == NONE
        ),
    }
    if detail:
        frame |= {
            "activity": _categories(columns["activity"][rows], ACTIVITIES),
            "product": pd.Categorical(columns["product"][rows]),
            "therapist": columns["therapist"][rows],
        }
    if "site" in columns:
        frame["site"] = columns["site"][rows]
    return pd.DataFrame(frame, columns=list(frame))


def _categories(codes: np.ndarray, values) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=list(values))
