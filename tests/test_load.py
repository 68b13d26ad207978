"""The load script at a tiny size, against gunicorn: no failures, no lost writes."""

from bench import load


def test_mixed_load_loses_no_writes(app, database_url):
    with load.served(database_url, workers=2) as base:
        load.prepare_accounts(database_url, therapists=3, reviewers=1)
        tally = load.run(base, therapists=3, reviewers=1, seconds=3, warm_up=1)
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
    figures = load.summary(tally.latencies, 3)
    assert {"trial_save", "dashboard", "export"} <= set(figures)
    assert "login" in load.summary(tally.warm_up_latencies, 1)
