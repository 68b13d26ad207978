"""Required text that only looks filled in: blanks, invisible characters, no words.

A reason of spaces, a tab, a line break, a no-break space or a zero-width
space says nothing, yet a browser posts it as text. Reasons and the other
required text fields are cleaned of such characters and must then still
say something; nothing is saved otherwise.
"""

from datetime import date

import pytest
import sqlalchemy as sa

from tests.helpers import follow_up_form
from tracker.extensions import db
from tracker.models import AuditEvent, FollowUp, Patient, Trial
from tracker.web.forms import clean_text

BLANKS = {
    "space": " ",
    "spaces": "     ",
    "tab": "\t",
    "newline": "\n",
    "crlf": "\r\n",
    "no-break space": "\u00a0",
    "zero-width space": "\u200b",
    "byte order mark": "\ufeff",
    "ideographic space": "\u3000",
    "line separator": "\u2028",
    "word joiner": "\u2060",
    "mixed": " \u200b\t\u00a0\n\u2060 ",
}
#: Text with too few letters to be a reason.
WORDLESS = {"two letters": "ok", "punctuation": "...", "digits": "1234", "dash": "—"}
REASON_MESSAGE = "Write the reason in words (at least 3 letters)."


@pytest.fixture(autouse=True)
def therapist(auth):
    auth.login("therapist")


def trial_data(**overrides) -> dict:
    return {
        "trial_date": (date.today().replace(day=1)).isoformat(),
        "activity": "single_leg_squat",
        "activity_other": "",
        "pain_without": "6",
        "intervention": "insole",
        "product": "full-length insole",
        "pain_with": "3",
        "notes": "",
    } | overrides


def follow_up_data(**overrides) -> dict:
    return follow_up_form(pain="4") | overrides


def patient_data(**overrides) -> dict:
    return {"code": "PF-0001", "birth_year": "1990", "notes": ""} | overrides


def audit_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))


def record(app, model, record_id):
    with app.app_context():
        return db.session.get(model, record_id)


@pytest.fixture
def saved(records):
    """A patient, a trial and a follow-up of that trial, by kind."""
    trial = records.trial(pain_with=3, trial_date=date(2024, 1, 8))
    return {
        "patient": record(records.app, Trial, trial).patient_id,
        "trial": trial,
        "follow_up": records.follow_up(trial, pain=2),
    }


#: kind -> (edit URL, form data that changes something, model, changed column)
EDITS = {
    "trial": ("/trials/{}/edit", trial_data(pain_with="5"), Trial, "pain_with"),
    "follow_up": ("/follow-ups/{}/edit", follow_up_data(), FollowUp, "pain"),
    "patient": ("/patients/{}/edit", patient_data(), Patient, "birth_year"),
}
VOIDS = {
    "trial": ("/trials/{}/void", Trial),
    "follow_up": ("/follow-ups/{}/void", FollowUp),
    "patient": ("/patients/{}/void", Patient),
}


@pytest.mark.parametrize("kind", EDITS)
def test_an_edit_with_a_blank_or_wordless_reason_saves_nothing(
    app, client, saved, kind
):
    url, data, model, column = EDITS[kind]
    before, rows = getattr(record(app, model, saved[kind]), column), audit_rows(app)
    for name, reason in (BLANKS | WORDLESS).items():
        response = client.post(url.format(saved[kind]), data=data | {"reason": reason})
        assert response.status_code == 200, name
        assert REASON_MESSAGE in response.text, name
        assert 'id="reason-error"' in response.text, name  # next to the field
        assert getattr(record(app, model, saved[kind]), column) == before, name
        assert audit_rows(app) == rows, name


@pytest.mark.parametrize("kind", VOIDS)
def test_a_void_with_a_blank_or_wordless_reason_saves_nothing(app, client, saved, kind):
    url, model = VOIDS[kind]
    rows = audit_rows(app)
    for name, reason in (BLANKS | WORDLESS).items():
        response = client.post(url.format(saved[kind]), data={"reason": reason})
        assert response.status_code == 200, name
        assert REASON_MESSAGE in response.text, name
        assert 'id="reason-error"' in response.text, name
        assert record(app, model, saved[kind]).voided_at is None, name
        assert audit_rows(app) == rows, name


def test_a_reason_is_stored_without_the_invisible_characters_around_it(
    app, client, saved
):
    response = client.post(
        f"/follow-ups/{saved['follow_up']}/edit",
        data=follow_up_data() | {"reason": "\ufeffre-scored,\u200b\r\nby phone "},
    )
    assert response.status_code == 302
    reason = "\u200b\u00a0 wrong patient\u2060\t\n"
    response = client.post(f"/trials/{saved['trial']}/void", data={"reason": reason})
    assert response.status_code == 302
    assert record(app, Trial, saved["trial"]).void_reason == "wrong patient"
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent.reason).order_by(AuditEvent.id)
        ).all()
    assert rows[-2:] == ["re-scored,\nby phone", "wrong patient"]


def test_a_blank_clinic_code_saves_no_patient(client, records):
    for name, code in BLANKS.items():
        response = client.post("/patients/new", data=patient_data(code=code))
        assert response.status_code == 200, name
        assert "Enter the patient&#39;s clinic code." in response.text, name
        assert 'id="code-error"' in response.text, name
    assert records.count(Patient) == 0


def test_a_code_with_a_hidden_character_is_the_same_code(client, records):
    records.patient(code="PF-0042")
    response = client.post("/patients/new", data=patient_data(code="PF-\u200b0042"))
    assert "Clinic code PF-0042 is already in use." in response.text
    assert records.count(Patient) == 1


def test_other_activity_needs_a_description_in_words(client, records):
    patient = records.patient()
    for name, description in (BLANKS | {"one letter": "x", "digits": "12"}).items():
        response = client.post(
            f"/patients/{patient}/trials/new",
            data=trial_data(activity="other", activity_other=description),
        )
        assert response.status_code == 200, name
        assert "Describe the activity when you choose Other." in response.text, name
        assert 'id="activity_other-error"' in response.text, name
    assert records.count(Trial) == 0


@pytest.mark.parametrize(
    "raw, clean",
    [
        (" \u200bstairs\u00a0", "stairs"),
        ("a\u200bb", "ab"),  # format characters go from inside too
        ("line one\r\nline two", "line one\nline two"),
        ("tab\tinside", "tab\tinside"),
        ("bell\x07", "bell"),
        ("\u202eevil", "evil"),  # a right-to-left override
        (None, None),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean
