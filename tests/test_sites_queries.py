"""The site criteria stay small, and list pages ask a fixed number of queries."""

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tracker.extensions import db
from tracker.models import Site, User


@pytest.fixture
def statements(app):
    """The SQL the app sends while the test runs."""
    sent = []
    with app.app_context():
        engine = db.engine

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    yield sent
    event.remove(engine, "before_cursor_execute", keep)


@pytest.fixture
def second_site(app, users):
    """A second site, so the therapist's requests are limited to the first."""
    with app.app_context():
        db.session.add(Site(name="North"))
        db.session.commit()
        therapist = db.session.scalar(
            sa.select(User).where(User.username == "therapist")
        )
        assert not therapist.sees_every_site


def patients_with_trials(records, count: int) -> None:
    for _ in range(count):
        trial = records.trial(records.patient())
        records.follow_up(trial)


def test_the_site_criteria_appear_a_few_times_per_query_not_nested(
    client, auth, records, second_site, statements
):
    patients_with_trials(records, 3)
    auth.login("therapist")
    most = {}
    for url in (
        "/patients/",
        "/trials/",
        "/patients/1",
        "/trials/1",
        "/follow-ups/due",
    ):
        statements.clear()
        assert client.get(url).status_code == 200
        most[url] = max(statement.count("site_id IN") for statement in statements)
    assert max(most.values()) <= 3


@pytest.mark.parametrize("url", ["/patients/", "/trials/"])
def test_a_list_page_asks_as_many_queries_for_40_patients_as_for_2(
    client, auth, records, second_site, statements, url
):
    auth.login("therapist")
    counts = []
    for more in (2, 38):
        patients_with_trials(records, more)
        statements.clear()
        assert client.get(url).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
