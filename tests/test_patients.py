"""Adding, finding and editing patients."""

from datetime import date

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import Patient


@pytest.fixture(autouse=True)
def therapist(auth):
    """Every test here acts as a logged-in therapist."""
    auth.login("therapist")


def test_add_patient_shows_their_page(client, records):
    response = client.post(
        "/patients/new",
        data={
            "code": " PF-0042 ",
            "birth_year": "1990",
            "sex": "female",
            "affected_side": "left",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Patient PF-0042 added." in response.text
    assert records.count(Patient) == 1
    assert '<h1 class="me-3">Patient PF-0042</h1>' in response.text


def test_optional_fields_may_stay_blank(client, records):
    response = client.post(
        "/patients/new", data={"code": "PF-1"}, follow_redirects=True
    )
    assert response.status_code == 200
    assert records.count(Patient) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": ""}, "Enter the patient&#39;s clinic code."),
        ({"code": "   "}, "Enter the patient&#39;s clinic code."),
        ({"code": "X" * 41}, "Field cannot be longer than 40 characters."),
        (
            {"code": "PF-9", "birth_year": "1850"},
            "Enter a year from 1900 to this year.",
        ),
        (
            {"code": "PF-9", "birth_year": str(date.today().year + 1)},
            "Enter a year from 1900 to this year.",
        ),
        ({"code": "PF-9", "birth_year": "nineteen"}, "Not a valid integer value."),
        ({"code": "PF-9", "sex": "unknown"}, "Choose from the list."),
        ({"code": "PF-9", "affected_side": "middle"}, "Choose left, right or both."),
        (
            {"code": "PF-9", "notes": "x" * 2001},
            "Field cannot be longer than 2000 characters.",
        ),
    ],
)
def test_bad_patient_input_is_refused_beside_the_field(client, records, data, message):
    response = client.post("/patients/new", data=data)
    assert response.status_code == 200
    assert message in response.text
    assert "invalid-feedback" in response.text
    assert records.count(Patient) == 0


def test_duplicate_code_is_refused(client, records):
    records.patient(code="PF-0042")
    response = client.post("/patients/new", data={"code": "PF-0042"})
    assert "Clinic code PF-0042 is already in use." in response.text
    assert records.count(Patient) == 1


def test_search_finds_codes_containing_the_text(client, records):
    records.patient(code="PF-0042")
    records.patient(code="PF-0100")
    records.patient(code="KN_7")
    page = client.get("/patients/?q=f-0").text
    assert "PF-0042" in page and "PF-0100" in page
    assert "KN_7" not in page
    # The LIKE wildcard in a search is taken literally.
    assert "PF-0042" not in client.get("/patients/?q=_").text


def test_edit_patient_keeps_own_code_but_not_anothers(client, records):
    first = records.patient(code="PF-1")
    records.patient(code="PF-2")
    response = client.post(
        f"/patients/{first}/edit",
        data={"code": "PF-1", "notes": "runner", "reason": "added a note"},
        follow_redirects=True,
    )
    assert "Patient PF-1 updated." in response.text
    response = client.post(
        f"/patients/{first}/edit", data={"code": "PF-2", "reason": "typo"}
    )
    assert "Clinic code PF-2 is already in use." in response.text


def test_missing_patient_is_a_404_page(client):
    response = client.get("/patients/999")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert client.get("/patients/999/edit").status_code == 404
    assert client.get("/patients/abc").status_code == 404


def test_voiding_a_patient_hides_them_but_keeps_the_record(client, records):
    patient = records.patient(code="PF-0099")
    response = client.post(f"/patients/{patient}/void", data={"reason": ""})
    assert "Say why" in response.text
    response = client.post(
        f"/patients/{patient}/void",
        data={"reason": "added twice"},
        follow_redirects=True,
    )
    assert "Patient PF-0099 voided." in response.text
    assert "PF-0099" not in client.get("/patients/").text
    assert records.count(Patient) == 1
    assert "added twice" in client.get(f"/patients/{patient}/void").text


def test_a_code_differing_only_by_case_is_refused_beside_the_field(client, records):
    records.patient(code="PF-0001")
    response = client.post("/patients/new", data={"code": " pf-0001 "})
    assert "Clinic code pf-0001 is already in use (as PF-0001)." in response.text
    assert "invalid-feedback" in response.text
    assert records.count(Patient) == 1


def test_a_patients_own_code_may_change_case(client, records):
    patient = records.patient(code="pf-7")
    response = client.post(
        f"/patients/{patient}/edit",
        data={"code": "PF-7", "reason": "codes are upper case"},
        follow_redirects=True,
    )
    assert "Patient PF-7 updated." in response.text


def test_the_database_refuses_a_code_differing_only_by_case(app, records):
    records.patient(code="PF-0001")
    with app.app_context(), db.engine.connect() as connection:
        with pytest.raises(sa.exc.IntegrityError):
            connection.execute(
                sa.text(
                    "INSERT INTO patient (code, notes, created_at) "
                    "VALUES ('pf-0001', '', CURRENT_TIMESTAMP)"
                )
            )
