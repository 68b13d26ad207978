"""Fill a migrated database with many made-up trials, fast.

Rows are generated as NumPy columns and written in bulk: ``executemany`` on
SQLite, ``COPY ... FROM STDIN`` on PostgreSQL. Going through the ORM row by
row would take minutes for a million trials.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analysis.rule import GLOBAL_RATINGS

INTERVENTIONS = ("insole", "taping", "brace")
PRODUCTS = {
    "insole": ("prefabricated full-length insole", "off-the-shelf 3/4 orthosis"),
    "taping": ("McConnell patellar taping", "kinesiology tape"),
    "brace": ("patellar stabilising sleeve", "infrapatellar strap"),
}
ACTIVITIES = (
    "single_leg_squat",
    "step_down",
    "stairs_up",
    "stairs_down",
    "squat",
    "running",
    "walking",
    "prolonged_sitting",
)
THERAPISTS = 8
FOLLOW_UP_WEEKS = np.array([2, 6, 10, 12, 12, 12, 13, 16])
CREATED_AT = "2026-01-01 00:00:00.000000"
#: Where the made-up trial dates end (three years before it is where they start).
LAST_DAY = np.datetime64("2026-01-01")


@dataclass(frozen=True)
class Filled:
    """How many rows :func:`fill` wrote."""

    therapists: int
    patients: int
    trials: int
    follow_ups: int


def fill(engine: sa.Engine, trials: int, seed: int = 1) -> Filled:
    """Add ``trials`` made-up trials, their patients, follow-ups and therapists.

    The database must be migrated and hold no earlier bench data. About one
    patient per two trials; three in four trials have a follow-up, some two;
    one trial in a hundred is voided. Same seed, same data.
    """
    if trials < 1:
        raise ValueError("trials must be at least 1")
    rng = np.random.default_rng(seed)
    with engine.begin() as connection:
        user_ids = _add_therapists(connection, seed)
        first_patient = _next_id(connection, "patient")
        first_trial = _next_id(connection, "trial")
        first_follow_up = _next_id(connection, "follow_up")
        patients = _patients(max(1, trials // 2), first_patient, seed)
        trial_rows = _trials(rng, trials, patients["id"].to_numpy(), user_ids)
        trial_rows.insert(0, "id", np.arange(first_trial, first_trial + trials))
        follow_ups = _follow_ups(rng, trial_rows, first_follow_up)
        for table, frame in (
            ("patient", patients),
            ("trial", trial_rows.drop(columns="relief")),
            ("follow_up", follow_ups),
        ):
            _write(connection, table, frame)
    return Filled(len(user_ids), len(patients), trials, len(follow_ups))


def settle(engine: sa.Engine) -> None:
    """On PostgreSQL, what autovacuum would soon do after a bulk fill.

    Statistics and visibility for the planner; without them the first
    minutes after a fill measure the planner's guesses, not the app.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.exec_driver_sql("VACUUM ANALYZE")


def _add_therapists(connection: sa.Connection, seed: int) -> list[int]:
    names = [f"bench-{seed}-therapist-{n:02d}" for n in range(1, THERAPISTS + 1)]
    # Not a valid password hash: these accounts cannot log in.
    connection.execute(
        sa.text(
            'INSERT INTO "user" (username, password_hash, role, active, '
            "session_token, created_at) VALUES (:username, '!', 'therapist', "
            ":active, :token, :created_at)"
        ),
        [
            {
                "username": name,
                "active": True,
                "token": f"bench-{seed}-{name}",
                "created_at": CREATED_AT,
            }
            for name in names
        ],
    )
    rows = connection.execute(
        sa.text('SELECT id FROM "user" WHERE username LIKE :prefix ORDER BY id'),
        {"prefix": f"bench-{seed}-therapist-%"},
    )
    return [row.id for row in rows]


def _next_id(connection: sa.Connection, table: str) -> int:
    return connection.scalar(sa.text(f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"'))


def _patients(count: int, first_id: int, seed: int) -> pd.DataFrame:
    ids = np.arange(first_id, first_id + count)
    return pd.DataFrame(
        {
            "id": ids,
            "code": [f"BENCH{seed}-{n:07d}" for n in range(count)],
            "notes": "",
            "created_at": CREATED_AT,
        }
    )


def _trials(
    rng: np.random.Generator, count: int, patient_ids: np.ndarray, user_ids: list[int]
) -> pd.DataFrame:
    intervention = rng.integers(0, len(INTERVENTIONS), count)
    products = np.array([PRODUCTS[i] for i in INTERVENTIONS])
    pain_without = np.where(rng.random(count) < 0.05, 0, rng.integers(2, 9, count))
    drop = rng.choice([-1, 0, 0, 1, 1, 2, 3], count)
    pain_with = np.clip(pain_without - drop, 0, 10)
    trial_date = LAST_DAY - rng.integers(0, 3 * 365, count).astype("timedelta64[D]")
    voided = rng.random(count) < 0.01
    return pd.DataFrame(
        {
            "patient_id": np.sort(rng.choice(patient_ids, count)),
            "trial_date": trial_date.astype(str),
            "intervention": np.array(INTERVENTIONS)[intervention],
            "product": products[intervention, rng.integers(0, 2, count)],
            "activity": np.array(ACTIVITIES)[rng.integers(0, len(ACTIVITIES), count)],
            "activity_other": "",
            "pain_without": pain_without,
            "pain_with": pain_with,
            "notes": "",
            "created_at": CREATED_AT,
            "recorded_by_id": np.array(user_ids)[rng.integers(0, len(user_ids), count)],
            "voided_at": np.where(voided, CREATED_AT, None),
            "void_reason": np.where(voided, "entered in error", None),
            "relief": (pain_without > 0) & (pain_with < pain_without),
        }
    )


def _follow_ups(
    rng: np.random.Generator, trials: pd.DataFrame, first_id: int
) -> pd.DataFrame:
    """One follow-up for three trials in four, a second (early) one for some."""
    followed = np.flatnonzero(rng.random(len(trials)) < 0.75)
    early = followed[rng.random(len(followed)) < 0.15]
    trial_index = np.concatenate([followed, early])
    weeks = np.concatenate(
        [
            rng.choice(FOLLOW_UP_WEEKS, len(followed)),
            np.full(len(early), 4),
        ]
    )
    relief = trials["relief"].to_numpy()[trial_index]
    improved = rng.random(len(trial_index)) < np.where(relief, 0.4, 0.12)
    other = rng.integers(0, 4, len(trial_index))
    rating = np.where(improved, len(GLOBAL_RATINGS) - 1, other)
    trial_date = trials["trial_date"].to_numpy().astype("datetime64[D]")[trial_index]
    follow_up_date = trial_date + (weeks * 7).astype("timedelta64[D]")
    # Nobody is seen after the last day: recent trials still wait for theirs.
    seen = follow_up_date <= LAST_DAY
    trial_index, follow_up_date = trial_index[seen], follow_up_date[seen]
    improved, rating = improved[seen], rating[seen]
    count = len(trial_index)
    return pd.DataFrame(
        {
            "id": np.arange(first_id, first_id + count),
            "trial_id": trials["id"].to_numpy()[trial_index],
            "follow_up_date": follow_up_date.astype(str),
            "pain": np.clip(
                trials["pain_without"].to_numpy()[trial_index]
                - rng.integers(0, 5, count),
                0,
                10,
            ),
            "still_using": improved | (rng.random(count) < 0.3),
            "global_rating": np.array(GLOBAL_RATINGS)[rating],
            "created_at": CREATED_AT,
        }
    )


def _write(connection: sa.Connection, table: str, frame: pd.DataFrame) -> None:
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    if connection.dialect.name == "postgresql":
        _copy(connection, table, columns, frame)
    else:
        placeholders = ", ".join("?" for _ in frame.columns)
        rows = frame.astype(object).where(frame.notna(), None)
        connection.exec_driver_sql(
            f'INSERT INTO "{table}" ({columns}) VALUES ({placeholders})',
            list(rows.itertuples(index=False, name=None)),
        )
    if connection.dialect.name == "postgresql":
        # Explicit ids leave the sequence behind; the app's next insert needs it.
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'(SELECT max(id) FROM "{table}"))'
        )


def _copy(
    connection: sa.Connection, table: str, columns: str, frame: pd.DataFrame
) -> None:
    # CSV reads an empty field as NULL; text columns that hold "" must say so.
    text = [name for name in frame if (frame[name].astype(str) == "").any()]
    options = f", FORCE_NOT_NULL ({', '.join(text)})" if text else ""
    cursor = connection.connection.driver_connection.cursor()
    statement = f'COPY "{table}" ({columns}) FROM STDIN (FORMAT csv{options})'
    with cursor.copy(statement) as copy:
        for start in range(0, len(frame), 100_000):
            buffer = io.StringIO()
            frame.iloc[start : start + 100_000].to_csv(
                buffer, header=False, index=False
            )
            copy.write(buffer.getvalue())
