"""The upload page: check a trial file, preview what it would do, then confirm."""

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tracker import csvio
from tracker.csvio import forked
from tracker.extensions import db
from tracker.models import AuditEvent, Patient, Trial

DAY = date.today() - timedelta(weeks=20)
HEADER = "patient_code,trial_date,intervention,activity,pain_without,pain_with"
GOOD = f"{HEADER}\r\nPF-1,{DAY},insole,squat,6,3\r\nPF-2,{DAY},brace,running,4,4\r\n"


@pytest.fixture(autouse=True)
def import_folder(app, tmp_path):
    """Uploads wait for their confirmation in the test's own folder."""
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    return tmp_path / "imports"


def upload(client, content: str | bytes, name="clinic.csv"):
    data = content.encode() if isinstance(content, str) else content
    # Encoded here, in memory: the test client would spool a body over
    # 500 KB to a temporary file and leave it open.
    file = FileStorage(io.BytesIO(data), filename=name, content_type="text/csv")
    boundary, body = encode_multipart({"file": file})
    return client.post(
        "/imports/trials",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def confirm_token(page: str) -> str:
    marker = 'name="token" type="hidden" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_a_therapist_previews_then_confirms_an_import(
    app, auth, client, records, import_folder
):
    auth.login("therapist")
    response = upload(client, GOOD)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'Rows read</dt><dd class="col-sm-9">2' in page
    assert "Import 2 trials" in page
    assert records.count(Trial) == 0
    assert len(list(import_folder.glob("*.csv"))) == 1

    response = client.post(
        "/imports/trials/confirm", data={"token": confirm_token(page)}
    )
    assert response.status_code == 302
    assert records.count(Trial) == 2
    assert records.count(Patient) == 2
    assert list(import_folder.glob("*.csv")) == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Imported clinic.csv: 2 trials added" in page
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "import")
        )
        assert event.username == "therapist"
        assert event.changes["file"] == "clinic.csv"


def test_the_preview_lists_every_problem_and_offers_no_import(auth, client, records):
    auth.login("admin")
    bad = f"{HEADER}\r\nPF-1,{DAY},insole,squat,16,3\r\nPF-2,{DAY},shoe,squat,6,3\r\n"
    page = upload(client, bad).get_data(as_text=True)
    assert "line 2, column pain_without: Pain scores run from 0" in page
    assert "line 3, column intervention: Choose insoles" in page
    assert "Nothing was written" in page
    assert 'name="token"' not in page
    assert records.count(Trial) == 0


def test_a_confirmation_without_its_upload_is_refused(auth, client, records):
    auth.login("therapist")
    response = client.post("/imports/trials/confirm", data={"token": "x" * 32})
    assert response.status_code == 302
    assert "/imports/trials" in response.headers["Location"]
    page = upload(client, GOOD).get_data(as_text=True)
    response = client.post("/imports/trials/confirm", data={"token": "y" * 32})
    assert "expired" in client.get(response.headers["Location"]).text
    assert records.count(Trial) == 0
    # The real token was spent with the failed attempt: upload again.
    client.post("/imports/trials/confirm", data={"token": confirm_token(page)})
    assert records.count(Trial) == 0


def test_a_file_of_known_trials_has_nothing_to_import(auth, client, records):
    auth.login("therapist")
    client.post(
        "/imports/trials/confirm",
        data={"token": confirm_token(upload(client, GOOD).text)},
    )
    page = upload(client, GOOD).get_data(as_text=True)
    assert "already recorded: there is nothing to import" in page
    assert "line 2: same trial as trial 1; skipped" in page


def test_a_reviewer_may_not_upload(auth, client):
    auth.login("reviewer")
    assert client.get("/imports/trials").status_code == 403
    assert upload(client, GOOD).status_code == 403


def test_an_upload_over_the_size_limit_gets_a_clear_message(app, auth, client):
    auth.login("therapist")
    # Small sizes: the test client keeps a body under 500 KB in memory.
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024
    response = upload(client, GOOD + "x" * (200 * 1024))
    assert response.status_code == 413
    assert "larger than 100 KB" in response.text
    assert "flask --app tracker import-trials" in response.text


def test_only_csv_files_are_taken(auth, client):
    auth.login("therapist")
    page = upload(client, GOOD, name="clinic.xlsx").get_data(as_text=True)
    assert "Choose a .csv file" in page


def test_a_semicolon_file_is_explained_on_the_page(auth, client, records):
    auth.login("therapist")
    page = upload(client, GOOD.replace(",", ";")).get_data(as_text=True)
    assert "separates its columns with semicolons" in page
    assert records.count(Trial) == 0


def test_a_large_upload_is_checked_in_a_child_process(
    auth, client, records, monkeypatch
):
    children = []
    original = forked.items_from_child

    def counted(*args, **kwargs):
        children.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr("tracker.csvio.forked.items_from_child", counted)
    note = "knee pain on stairs; better with the insole. " * 4
    rows = [
        f"PF-{number // 2},{DAY},insole,squat,6,{number % 5},{note}"
        for number in range(6000)
    ]
    text = "\r\n".join([HEADER + ",notes", *rows]) + "\r\n"
    assert len(text.encode()) > csvio.CHECK_IN_CHILD_BYTES

    auth.login("therapist")
    page = upload(client, text).get_data(as_text=True)
    assert 'Rows read</dt><dd class="col-sm-9">6000' in page
    assert "Import 6000 trials" in page
    response = client.post(
        "/imports/trials/confirm", data={"token": confirm_token(page)}
    )
    assert response.status_code == 302
    assert len(children) == 2  # the preview, then the import
    assert records.count(Trial) == 6000
    assert records.count(Patient) == 3000
