"""After a mixed load: every save the clients were told about, found in the database.

Zero lost writes and zero double reports are the requirement
(:mod:`bench.load`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from bench.load_clients import ReportLinkOut, Tally

#: Who the audit trail names for a patient's report (tracker.audit.SELF_REPORT).
SELF_REPORT = "patient (self-report)"


def lost_writes(database_url: str, tally: Tally) -> dict[str, int]:
    """Saves the clients were told about that the database lacks.

    Follow-ups are counted on this run's trials only, which no earlier run
    can have touched.
    """
    queries = {
        "trials": "SELECT count(*) FROM trial WHERE id IN :ids",
        "trial_audit_rows": (
            "SELECT count(*) FROM audit_event WHERE table_name = 'trial' "
            "AND action = 'create' AND record_id IN :ids"
        ),
        "follow_ups": "SELECT count(*) FROM follow_up WHERE trial_id IN :ids",
        "follow_up_audit_rows": (
            "SELECT count(*) FROM audit_event a JOIN follow_up f "
            "ON a.table_name = 'follow_up' AND a.action = 'create' "
            "AND a.record_id = f.id WHERE f.trial_id IN :ids"
        ),
    }
    ids = sorted(tally.saved_trials)
    found = dict.fromkeys(queries, 0)
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            for name, query in queries.items():
                statement = sa.text(query).bindparams(
                    sa.bindparam("ids", expanding=True)
                )
                found[name] += connection.execute(
                    statement, {"ids": ids[start : start + 500]}
                ).scalar()
    engine.dispose()
    expected = {
        "trials": len(ids),
        "trial_audit_rows": len(ids),
        "follow_ups": tally.saved_follow_ups,
        "follow_up_audit_rows": tally.saved_follow_ups,
    }
    return {name: expected[name] - found[name] for name in queries}


def report_problems(
    database_url: str, links: list[ReportLinkOut], tally: Tally, since: datetime
) -> dict[str, int]:
    """What the database holds against what the patients were told; zeros are right.

    - ``lost``: reports a patient was thanked for, with no patient's
      follow-up on the trial;
    - ``doubles``: patient's follow-ups beyond one on a trial of ``links``;
    - ``links_not_spent``: thanked-for links not marked used with their own
      follow-up, audited as the patient's;
    - ``spent_unthanked``: links used whose patient was never thanked (the
      answer failed or came too late);
    - ``refusals``: refused link requests the throttle counted since ``since``.
    """
    query = sa.text(
        "SELECT r.id, r.used_at IS NOT NULL, "
        "(SELECT count(*) FROM follow_up f WHERE f.trial_id = r.trial_id "
        "AND f.source = 'patient'), "
        "(SELECT count(*) FROM follow_up f JOIN audit_event a "
        "ON a.table_name = 'follow_up' AND a.action = 'create' "
        "AND a.record_id = f.id AND a.username = :self_report "
        "WHERE f.id = r.follow_up_id AND f.trial_id = r.trial_id "
        "AND f.source = 'patient') "
        "FROM report_link r WHERE r.id IN :ids"
    ).bindparams(sa.bindparam("ids", expanding=True))
    thanked = {link.link_id for link in tally.reported}
    problems = dict.fromkeys(
        ("lost", "doubles", "links_not_spent", "spent_unthanked", "refusals"), 0
    )
    ids = sorted(link.link_id for link in links)
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            rows = connection.execute(
                query, {"ids": ids[start : start + 500], "self_report": SELF_REPORT}
            )
            for link_id, used, reports, recorded in rows:
                problems["doubles"] += max(0, reports - 1)
                if link_id in thanked:
                    problems["lost"] += reports == 0
                    problems["links_not_spent"] += not (used and recorded == 1)
                else:
                    problems["spent_unthanked"] += bool(used)
        refusals = sa.text(
            "SELECT count(*) FROM report_link_refusal WHERE at >= :since"
        ).bindparams(sa.bindparam("since", type_=sa.DateTime(timezone=True)))
        problems["refusals"] = connection.execute(refusals, {"since": since}).scalar()
    engine.dispose()
    return problems
