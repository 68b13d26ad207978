"""FormCheck gives what the forms' own validate() gives, row after row."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict

from tracker.csvio.checking import (
    _ImportFollowUpForm,
    _ImportPatientForm,
    _ImportTrialForm,
)
from tracker.csvio.formcheck import FormCheck
from tracker.trials.forms import FollowUpForm, TrialForm

TODAY = date.today()
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
THIS_YEAR = str(TODAY.year)

GOOD_PATIENT = {"code": "PF-0042", "birth_year": "1970", "sex": "female"}
GOOD_PATIENT |= {"affected_side": "left", "notes": ""}
PATIENT_CASES = [
    {},
    {"code": ""},
    {"code": "   "},
    {"code": " PF-0042 "},
    {"code": "X" * 40},
    {"code": "X" * 41},
    {"birth_year": ""},
    {"birth_year": "1899"},
    {"birth_year": "1900"},
    {"birth_year": THIS_YEAR},
    {"birth_year": str(TODAY.year + 1)},
    {"birth_year": "abc"},
    {"birth_year": "1970.5"},
    {"sex": ""},
    {"sex": "FEMALE"},
    {"sex": "x"},
    {"affected_side": "both"},
    {"affected_side": "up", "sex": "x", "code": ""},
    {"notes": "n" * 2001},
]

GOOD_TRIAL = {"trial_date": "2024-03-01", "activity": "running"}
GOOD_TRIAL |= {"activity_other": "", "pain_without": "6", "intervention": "insole"}
GOOD_TRIAL |= {"product": "full-length insole", "pain_with": "3", "notes": ""}
TRIAL_CASES = [
    {},
    {"trial_date": ""},
    {"trial_date": "2024-02-30"},
    {"trial_date": "01/03/2024"},
    {"trial_date": TOMORROW},
    {"trial_date": TODAY.isoformat()},
    # The same description, with and without "other": checked each time.
    {"activity": "other", "activity_other": ""},
    {"activity": "running", "activity_other": ""},
    {"activity": "other", "activity_other": "   "},
    {"activity": "other", "activity_other": "cycling"},
    {"activity": "running", "activity_other": "cycling"},
    {"activity": "other", "activity_other": "c" * 201},
    {"activity": ""},
    {"activity": "jumping"},
    {"activity": "", "activity_other": ""},
    {"pain_without": ""},
    {"pain_without": "0", "pain_with": "10"},
    {"pain_without": "11"},
    {"pain_without": "-1"},
    {"pain_without": "5.5"},
    {"pain_without": "five", "pain_with": " 7 "},
    {"intervention": ""},
    {"intervention": "orthosis"},
    {"product": "p" * 201},
    {"notes": "n" * 2001},
    {"trial_date": "", "activity": "", "pain_with": "", "intervention": ""},
]

GOOD_FOLLOW_UP = {"follow_up_date": "2024-06-01", "pain": "2"}
GOOD_FOLLOW_UP |= {"still_using": "yes", "global_rating": "markedly_improved"}
TRIAL_DAY = date(2024, 3, 1)
FOLLOW_UP_CASES = [
    ({}, TRIAL_DAY),
    # The same follow-up date after, on and before the trial it follows.
    ({"follow_up_date": "2024-03-01"}, TRIAL_DAY),
    ({"follow_up_date": "2024-03-01"}, date(2024, 3, 2)),
    ({"follow_up_date": "2024-03-01"}, None),
    ({"follow_up_date": "2024-02-01"}, TRIAL_DAY),
    ({"follow_up_date": ""}, TRIAL_DAY),
    ({"follow_up_date": "2024-13-01"}, TRIAL_DAY),
    ({"follow_up_date": TOMORROW}, TRIAL_DAY),
    ({"pain": ""}, TRIAL_DAY),
    ({"pain": "12"}, TRIAL_DAY),
    ({"still_using": "no"}, TRIAL_DAY),
    ({"still_using": ""}, TRIAL_DAY),
    ({"still_using": "maybe"}, TRIAL_DAY),
    ({"global_rating": "same"}, TRIAL_DAY),
    ({"global_rating": "better"}, TRIAL_DAY),
    ({"global_rating": "", "still_using": "", "pain": ""}, TRIAL_DAY),
]

#: The import's own fields: a trial's lost reason, a follow-up's source.
LOST_REASON_CASES = [
    {"lost_reason": ""},
    {"lost_reason": "   "},
    {"lost_reason": " moved abroad, no reply "},
    {"lost_reason": "?? -"},
    {"lost_reason": "r" * 500},
    {"lost_reason": "r" * 501},
    {"lost_reason": "moved", "activity": "other", "activity_other": ""},
]
SOURCE_CASES = [
    {"source": ""},
    {"source": "clinic"},
    {"source": "patient"},
    {"source": "Patient"},
    {"source": "home", "pain": "12"},
]


def plain(form_class, **kwargs):
    return form_class(formdata=None, meta={"csrf": False}, **kwargs)


def validated(form_class, row, **kwargs):
    """The form as the screens use it: filled from form data and validated."""
    form = form_class(formdata=MultiDict(row), meta={"csrf": False}, **kwargs)
    form.validate()
    return form


def filled(form) -> dict:
    record = SimpleNamespace()
    form.fill(record)
    return vars(record)


def assert_same_as_validate(check, form, row):
    data, errors = check.check(row)
    assert (data, errors) == (form.data, form.errors), row
    assert list(errors) == list(form.errors), row  # in the same order
    if not errors:
        record = SimpleNamespace()
        check.fill(data, record)
        assert vars(record) == filled(form), row


@pytest.mark.parametrize("passes", [1, 2])
def test_patient_rows_get_the_forms_data_and_messages(app, passes):
    with app.test_request_context():
        check = FormCheck(plain(_ImportPatientForm))
        for _ in range(passes):  # the second time, every value is known
            for case in PATIENT_CASES:
                row = GOOD_PATIENT | case
                form = validated(_ImportPatientForm, row)
                assert_same_as_validate(check, form, row)


@pytest.mark.parametrize("passes", [1, 2])
def test_trial_rows_get_the_forms_data_and_messages(app, passes):
    with app.test_request_context():
        check = FormCheck(plain(TrialForm))
        for _ in range(passes):
            for case in TRIAL_CASES:
                row = GOOD_TRIAL | case
                assert_same_as_validate(check, validated(TrialForm, row), row)


@pytest.mark.parametrize("passes", [1, 2])
def test_follow_up_rows_get_the_forms_data_and_messages(app, passes):
    with app.test_request_context():
        followed = SimpleNamespace(trial_date=None)
        check = FormCheck(plain(FollowUpForm, trial=followed))
        for _ in range(passes):
            for case, trial_date in FOLLOW_UP_CASES:
                row = GOOD_FOLLOW_UP | case
                followed.trial_date = trial_date
                trial = SimpleNamespace(trial_date=trial_date)
                form = validated(FollowUpForm, row, trial=trial)
                assert_same_as_validate(check, form, row)


@pytest.mark.parametrize("passes", [1, 2])
def test_imported_trials_lost_reasons_get_the_forms_data_and_messages(app, passes):
    with app.test_request_context():
        check = FormCheck(plain(_ImportTrialForm))
        for _ in range(passes):
            for case in TRIAL_CASES + LOST_REASON_CASES:
                row = GOOD_TRIAL | {"lost_reason": ""} | case
                assert_same_as_validate(check, validated(_ImportTrialForm, row), row)


@pytest.mark.parametrize("passes", [1, 2])
def test_imported_follow_ups_sources_get_the_forms_data_and_messages(app, passes):
    with app.test_request_context():
        followed = SimpleNamespace(trial_date=TRIAL_DAY)
        check = FormCheck(plain(_ImportFollowUpForm, trial=followed))
        trial = SimpleNamespace(trial_date=TRIAL_DAY)
        for _ in range(passes):
            for case in SOURCE_CASES:
                row = GOOD_FOLLOW_UP | {"source": ""} | case
                form = validated(_ImportFollowUpForm, row, trial=trial)
                assert_same_as_validate(check, form, row)


def test_the_import_cases_include_good_rows_and_each_kind_of_message(app):
    """The import's own cases exercise both outcomes of its own fields."""
    with app.test_request_context():
        lost = [
            validated(_ImportTrialForm, GOOD_TRIAL | case).errors.get("lost_reason")
            for case in LOST_REASON_CASES
        ]
        trial = SimpleNamespace(trial_date=TRIAL_DAY)
        sources = [
            validated(_ImportFollowUpForm, GOOD_FOLLOW_UP | case, trial=trial)
            for case in SOURCE_CASES
        ]
    assert None in lost
    assert ["At most 500 characters."] in lost
    assert ["Write the reason in words (at least 3 letters)."] in lost
    assert [filled(form)["source"] for form in sources[:3]] == [
        "clinic",
        "clinic",
        "patient",
    ]
    assert "source" in sources[3].errors


def test_the_cases_include_good_rows_and_each_kind_of_message(app):
    """The tables above exercise both outcomes, so the comparisons mean something."""
    with app.test_request_context():
        outcomes = [
            validated(TrialForm, GOOD_TRIAL | case).errors for case in TRIAL_CASES
        ]
    messages = {m for errors in outcomes for ms in errors.values() for m in ms}
    assert {} in outcomes
    assert "Describe the activity when you choose Other." in messages
    assert "The date cannot be in the future." in messages


def test_columns_name_where_fields_are_read_and_unnamed_fields_are_blank(app):
    with app.test_request_context():
        check = FormCheck(
            plain(_ImportPatientForm), {"code": "patient_code", "sex": "patient_sex"}
        )
        data, errors = check.check(
            {"patient_code": "PF-1", "patient_sex": "male", "notes": "not a patient's"}
        )
    assert errors == {}
    assert data == {
        "code": "PF-1",
        "birth_year": None,
        "sex": "male",
        "affected_side": "",
        "notes": "",
    }
