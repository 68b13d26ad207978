"""The load script at a tiny size, against gunicorn: no failures, no lost writes."""

from datetime import UTC, datetime

from bench import load
from bench.serving import spread_over_sites


def test_mixed_load_loses_no_writes_and_no_patient_reports(app, database_url):
    since = datetime.now(UTC)
    with app.app_context():
        spread_over_sites(3)
    with load.served(database_url, workers=2) as base:
        assert load.prepare_accounts(database_url, therapists=3, reviewers=1) == 3
        links = load.prepare_report_links(base, 4, therapists=3).links
        tally = load.run(
            base,
            therapists=3,
            reviewers=1,
            seconds=3,
            warm_up=1,
            report_links=[links[0::2], links[1::2]],
            patient_think=0.2,
        )
    assert tally.failures == [], load.served.errors[-2000:]
    assert len(tally.saved_trials) > 5
    lost = load.lost_writes(database_url, tally)
    assert set(lost) == {
        "trials",
        "trial_audit_rows",
        "follow_ups",
        "follow_up_audit_rows",
    }
    assert lost == dict.fromkeys(lost, 0)
    assert sorted(link.link_id for link in tally.reported) == sorted(
        link.link_id for link in links
    )
    problems = load.report_problems(database_url, links, tally, since)
    assert problems == {
        "lost": 0,
        "doubles": 0,
        "links_not_spent": 0,
        "spent_unthanked": 0,
        "refusals": 0,
    }
    figures = load.summary(tally.latencies, 3)
    warm_up = load.summary(tally.warm_up_latencies, 1)
    assert {"trial_save", "dashboard", "export"} <= set(figures)
    assert "login" in warm_up
    assert {"report_page", "report_submit", "report_thanks"} <= {*figures, *warm_up}


def test_report_problems_finds_a_double_and_a_lost_report(app, database_url, records):
    """The check itself: a second patient's follow-up, a thanked-for link unused."""
    since = datetime.now(UTC)
    with load.served(database_url, workers=1) as base:
        load.prepare_accounts(database_url, therapists=1, reviewers=0)
        links = load.prepare_report_links(base, 2, therapists=1).links
        tally = load.run(
            base, 0, 0, seconds=1, report_links=[links[:1]], patient_think=0.01
        )
    doubled, unused = links
    records.follow_up(doubled.trial_id, source="patient")
    tally.reported.append(unused)
    problems = load.report_problems(database_url, links, tally, since)
    assert problems == {
        "lost": 1,
        "doubles": 1,
        "links_not_spent": 1,
        "spent_unthanked": 0,
        "refusals": 0,
    }
