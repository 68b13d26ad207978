"""Checked rows matched against the database: their patients, and duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Patient, Trial
from ..sites import scope
from .cells import _blank
from .columns import _PATIENT_FIELDS, SITE_COLUMN
from .report import Duplicate, ImportReport, Problem
from .site_choice import SiteChoice

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def code_key(code: str) -> str:
    """A clinic code as the database compares codes: ``lower()``, as SQLite's."""
    return code.translate(_ASCII_LOWER)


class _RecordIds:
    """Ids for new records, taken before the records are inserted in bulk.

    PostgreSQL hands them out from each table's sequence, so other writers
    never get the same; on SQLite the import's write transaction keeps other
    writers out, so the ids after the highest stored one are free.
    """

    def __init__(self):
        self._next: dict[type, int] = {}

    def take(self, model, count: int) -> Sequence[int]:
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            sequence = sa.func.pg_get_serial_sequence(model.__tablename__, "id")
            return connection.scalars(
                sa.select(sa.func.nextval(sequence)).select_from(
                    sa.func.generate_series(1, count)
                )
            ).all()
        if model not in self._next:
            highest = connection.scalar(sa.select(sa.func.max(model.id)))
            self._next[model] = (highest or 0) + 1
        first = self._next[model]
        self._next[model] += count
        return range(first, first + count)


@dataclass
class _Matched:
    """The new records a batch brings, each with the record it belongs to."""

    patients: list[dict]
    trials: list[tuple[dict, dict]]  # with the patient each belongs to
    follow_ups: list[tuple[dict, dict]]  # with the trial each follows


class _Matcher:
    """Finds each checked row's patient and whether its trial is recorded already.

    Looks in the database and in memory: rows already matched may not be
    in the database yet. A dry run inserts nothing, so memory keeps the
    whole file; an import calls :meth:`forget_inserted` once all but the
    last batch are inserted.
    """

    def __init__(self, report: ImportReport, sites: SiteChoice):
        self.report = report
        #: Where new patients go, and which sites' patients rows may add to.
        self.sites = sites
        self.new_patients: dict[str, dict] = {}
        #: Trial keys -> where they were first met.
        self.seen: dict[tuple, str] = {}
        self._last: tuple[dict, dict] = ({}, {})

    def forget_inserted(self) -> None:
        # The last batch's own dicts: match() starts new ones for the next.
        self.new_patients, self.seen = self._last

    def match(self, rows: list[tuple]) -> _Matched:
        """New records of ``rows``; duplicates and disagreements reported."""
        # Keyed by the code in lower case: codes are unique regardless of case.
        codes = {
            code_key(patient["code"]) for _line, _cells, patient, *_records in rows
        }
        stored = {
            code_key(row.code): row._asdict()
            # Every site: codes are unique across the group.
            for row in db.session.execute(
                scope.every_site(
                    sa.select(
                        Patient.id,
                        Patient.code,
                        Patient.birth_year,
                        Patient.sex,
                        Patient.affected_side,
                        Patient.voided_at,
                        Patient.site_id,
                    ).where(sa.func.lower(Patient.code).in_(codes))
                )
            )
        }
        by_id = {row["id"]: row["code"] for row in stored.values()}
        known: dict[tuple, str] = {}
        if by_id:
            for trial in db.session.execute(
                scope.every_site(
                    sa.select(
                        Trial.id,
                        Trial.patient_id,
                        Trial.trial_date,
                        Trial.intervention,
                        Trial.activity,
                        Trial.pain_without,
                        Trial.pain_with,
                        Trial.voided_at,
                    ).where(Trial.patient_id.in_(by_id))
                )
            ):
                key = (
                    by_id[trial.patient_id],
                    trial.trial_date,
                    trial.intervention,
                    trial.activity,
                    trial.pain_without,
                    trial.pain_with,
                )
                known[key] = f"trial {trial.id}" + (
                    " (voided)" if trial.voided_at else ""
                )
        matched = _Matched([], [], [])
        new_patients, seen = self._last = ({}, {})
        for line, values, patient, trial, follow_up in rows:
            code = patient["code"]
            any_case = code_key(code)
            reference = stored.get(any_case) or new_patients.get(any_case)
            reference = reference or self.new_patients.get(any_case)
            if not self._same_patient(line, values, patient, reference):
                continue
            key = (
                code,
                trial["trial_date"],
                trial["intervention"],
                trial["activity"],
                trial["pain_without"],
                trial["pain_with"],
            )
            same_as = seen.get(key) or self.seen.get(key) or known.get(key)
            if same_as:
                self.report.duplicates.append(
                    Duplicate(line, same_as, follow_up is not None)
                )
                continue  # recorded already, whichever site the row names
            site_id, problem = self.sites.site_for(
                values.get(SITE_COLUMN, ""), reference, code
            )
            if problem is not None:
                self.report.problems.append(Problem(line, SITE_COLUMN, problem))
                self.report.refused_lines.add(line)
                continue
            seen[key] = f"line {line}"
            self.report.accepted += 1
            self.report.follow_ups += follow_up is not None
            if reference is None:
                patient["site_id"] = site_id
                new_patients[any_case] = reference = patient
                matched.patients.append(patient)
                self.report.new_patients += 1
            matched.trials.append((trial, reference))
            if follow_up is not None:
                matched.follow_ups.append((follow_up, trial))
        self.new_patients.update(new_patients)
        self.seen.update(seen)
        return matched

    def _same_patient(self, line, values, patient, reference) -> bool:
        """A patient's details must agree on every row that gives them."""
        if reference is None:
            return True
        problems = []
        if reference["code"] != patient["code"]:
            problems.append(
                Problem(
                    line,
                    "patient_code",
                    f"{patient['code']} differs only by case from {reference['code']}, "
                    "in the database or on an earlier line: give the code as "
                    "recorded, or a code of its own",
                )
            )
        elif (
            self.sites.visible is not None
            and reference.get("site_id") not in self.sites.visible
        ):
            problems.append(
                Problem(
                    line,
                    "patient_code",
                    f"{patient['code']} is in use at another site of the group",
                )
            )
        elif reference.get("voided_at") is not None:
            problems.append(
                Problem(
                    line,
                    "patient_code",
                    f"patient {patient['code']} was voided; trials cannot be added",
                )
            )
        for column, name in list(_PATIENT_FIELDS.items())[1:]:
            if not values.get(column, "").strip():
                continue
            given, recorded = patient[name], reference[name]
            if given != recorded:
                problems.append(
                    Problem(
                        line,
                        column,
                        f"{given} differs from {_blank(recorded) or 'blank'}, "
                        f"recorded for patient {patient['code']} in the database "
                        "or on an earlier line",
                    )
                )
        self.report.problems.extend(problems)
        if problems:
            self.report.refused_lines.add(line)
        return not problems
