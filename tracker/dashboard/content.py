"""Everything the dashboard page shows, computed from one trials frame."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date

import analysis
from analysis.follow_up import GRACE_WEEKS

from ..labels import INTERVENTIONS, RELIEF_CRITERION_NAMES
from ..reporting import charts
from ..reporting.filters import TrialFilters
from ..reporting.rows import JUDGED
from ..reporting.sentences import Sentences
from ..reporting.summary import Summary, banded, summarise
from ..reporting.words import CRITERION_WORDS as RELIEF_CRITERION_WORDS
from ..settings import ClinicSettings, clinic_settings
from .glossary import GLOSSARY
from .kept import current_trials_frame
from .tables import GroupTable, group_tables, labelled, pain_changes

#: The clinic's relief criteria that are one cut-off of the drop (mcid is two).
CRITERION_CUT_OFFS = {
    "any": ("points", 1),
    "two_points": ("points", 2),
    "thirty_percent": ("percent", 30),
}
SCALE_WORDS = {"points": "Drop in points", "percent": "Drop in percent"}
MEASURE_WORDS = {
    "long_term_benefit": "Long-term benefit",
    "immediate_relief": "Immediate relief",
}
RELIEF_GROUP_WORDS = {
    "with_relief": "With relief at once",
    "without_relief": "Without relief at once",
    "all": "All with an outcome",
}


@dataclass(frozen=True)
class Dashboard:
    """The summary, the tables by activity, product, therapist and month, the charts."""

    summary: Summary
    aids: list[dict]
    completeness: list[dict]
    #: The last week an outcome is due before it is overdue.
    last_due_week: int
    tables: list[GroupTable]
    months: list[dict]
    pain_change: list[dict]
    #: Which trials the rates count, per aid and for all aids together.
    counting: dict[str, str]
    #: Every sentence of the summary, worked out once per view.
    sentences: Sentences
    #: Each aid's and all aids' long-term benefit against the band, in words.
    band_readings: list[dict]
    #: The rule's effect under the clinic's criterion: all aids, then each aid.
    effects: list[dict]
    #: Fewer outcomes than the cut-off check wants, said apart from its sentences.
    cut_off_warning: str | None
    cut_off_words: list[str]
    #: The cut-off table: one row per scale and cut-off.
    cut_offs: list[dict]
    #: The Youden-best cut-off of each scale beside the clinic's criterion.
    best_cut_offs: list[dict]
    #: Each measure's heading and its three pairs of aids, benefit first.
    aids_compared: list[tuple[str, list[dict]]]
    follow_up_pain: list[dict]
    figures: dict[str, str]
    #: Each statistical term the page uses: as shown, and in plain words.
    glossary: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(GLOSSARY))
    #: Every relief criterion's name for people, by its code.
    criterion_names: dict[str, str] = field(
        default_factory=lambda: dict(RELIEF_CRITERION_NAMES)
    )


def dashboard_content(
    filters: TrialFilters,
    settings: ClinicSettings | None = None,
    today: date | None = None,
) -> Dashboard | None:
    """The dashboard for the trials matching ``filters``; None when there are none.

    Follow-up statuses are as of ``today`` (by default the server's date).
    """
    settings = settings or clinic_settings()
    trials = current_trials_frame(filters, settings)
    if trials.empty:
        return None
    unit = filters.unit
    trials = analysis.check_trials(trials, settings.benefit_definition)
    result = summarise(trials, settings, unit, today, every_criterion=False)
    options = {
        "unit": unit,
        "criterion": settings.relief_criterion,
        "benefit_definition": settings.benefit_definition,
    }
    base_args = filters.as_args()
    tables = group_tables(trials, options, settings, base_args)
    # One verdict per month: long-term benefit, the rate the band describes.
    by_month = banded(
        analysis.response_rates(trials, by="month", **options), settings, JUDGED
    )
    months = [
        labelled(row, "month", base_args, linked=False)
        | {"args": base_args | _month_args(row["month"], filters)}
        for row in by_month.to_dict("records")
    ]
    pain_change = [
        group | {"args": base_args | {"intervention": group["intervention"]}}
        for group in pain_changes(trials)
    ]
    aids = [
        group
        | {
            "label": INTERVENTIONS[group["intervention"]],
            "args": base_args | {"intervention": group["intervention"]},
        }
        for group in result.groups
    ]
    aids.append(result.overall | {"label": "All aids", "args": base_args})
    completeness = [
        group | {"label": INTERVENTIONS[group["intervention"]]}
        for group in result.completeness["groups"]
    ]
    completeness.append(result.completeness["overall"] | {"label": "All aids"})
    sentences = result.sentences
    # The cut-off check's sentences start with its warning, when it has one.
    cut_off_warning, cut_off_words = None, sentences.cut_off
    if result.cut_off.warning is not None:
        cut_off_warning, *cut_off_words = sentences.cut_off
    return Dashboard(
        summary=result,
        aids=aids,
        completeness=completeness,
        last_due_week=settings.follow_up_due_weeks + GRACE_WEEKS,
        tables=tables,
        months=months,
        pain_change=pain_change,
        counting={
            "per_aid": analysis.counting_note(unit),
            "pooled": analysis.counting_note(unit, pooled=True),
        },
        sentences=sentences,
        band_readings=[
            {
                "label": aid["label"],
                "reading": sentences.band[key],
                "probability": sentences.band_probability[key],
            }
            for aid, key in zip(aids, [*INTERVENTIONS, "all"], strict=True)
        ],
        effects=effect_rows(result, sentences),
        cut_off_warning=cut_off_warning,
        cut_off_words=cut_off_words,
        cut_offs=cut_off_rows(result.cut_off, settings.relief_criterion),
        best_cut_offs=best_cut_off_rows(result, settings.relief_criterion),
        aids_compared=compared_rows(result, sentences),
        follow_up_pain=[
            group | {"label": RELIEF_GROUP_WORDS[group["relief"]]}
            for group in result.follow_up_pain["groups"]
        ],
        figures={
            "rates": charts.to_json(charts.rates_figure(result)),
            "rule": charts.to_json(charts.rule_figure(result.rule, settings)),
            "pain_change": charts.to_json(charts.pain_change_figure(pain_change)),
            "months": charts.to_json(charts.months_figure(months)),
            "roc": charts.to_json(
                charts.roc_figure(
                    result.cut_off,
                    result.rule,
                    RELIEF_CRITERION_WORDS[settings.relief_criterion],
                )
            ),
            **{
                f"funnel_{table.by}": charts.to_json(
                    charts.funnel_figure(
                        table.funnel,
                        table.funnel_rows,
                        f"Long-term benefit {table.heading.lower()}, "
                        "against the pooled rate",
                    )
                )
                for table in tables
                if table.funnel is not None and table.funnel.target is not None
            },
        },
    )


def effect_rows(result: Summary, sentences: Sentences) -> list[dict]:
    """The rule's effect under the clinic's criterion, all aids first, with words."""
    criterion = result.settings.relief_criterion
    rows = []
    for effect in result.effects:
        if effect.criterion != criterion:
            continue
        aid = effect.intervention
        rows.append(
            {
                "label": "All aids" if aid is None else INTERVENTIONS[aid],
                "effect": effect,
                "words": sentences.effect
                if aid is None
                else sentences.effect_by_aid[aid],
            }
        )
    return rows


def compared_rows(
    result: Summary, sentences: Sentences
) -> list[tuple[str, list[dict]]]:
    """The pairs of aids under each measure's heading, with their sentences."""
    rows = [
        row
        | {
            "label_a": INTERVENTIONS[row["intervention_a"]],
            "label_b": INTERVENTIONS[row["intervention_b"]],
            "words": words,
        }
        for row, words in zip(
            result.aids_compared, sentences.aids_compared, strict=True
        )
    ]
    return [
        (words, [row for row in rows if row["measure"] == measure])
        for measure, words in MEASURE_WORDS.items()
    ]


def cut_off_rows(check: analysis.CutOffCheck, criterion: str) -> list[dict]:
    """Each scale's cut-offs, the best one and the clinic's criterion marked."""
    clinic = CRITERION_CUT_OFFS.get(criterion)
    rows = []
    for curve in (check.points, check.percent):
        best = None if curve.best is None else curve.best.cut_off
        for cut_off in curve.cut_offs:
            rows.append(
                {
                    "scale": curve.scale,
                    "scale_label": SCALE_WORDS[curve.scale],
                    "label": _cut_off_label(curve.scale, cut_off.cut_off),
                    "cut_off": cut_off,
                    "best": cut_off.cut_off == best,
                    "clinic": clinic == (curve.scale, cut_off.cut_off),
                }
            )
    return rows


def best_cut_off_rows(result: Summary, criterion: str) -> list[dict]:
    """The best cut-off on each scale and the clinic's criterion, side by side."""
    rows = []
    for curve in (result.cut_off.points, result.cut_off.percent):
        if curve.best is not None:
            rows.append(
                {
                    "label": f"Best {SCALE_WORDS[curve.scale].lower()}: "
                    f"{_cut_off_label(curve.scale, curve.best.cut_off)}",
                    "estimates": curve.best,
                }
            )
    rows.append(
        {
            "label": f"Clinic's criterion: {RELIEF_CRITERION_WORDS[criterion]}",
            "estimates": result.rule,
        }
    )
    return rows


def _cut_off_label(scale: str, cut_off: int) -> str:
    if scale == "percent":
        return f"at least {cut_off}%"
    return f"at least {cut_off} point" + ("" if cut_off == 1 else "s")


def dashboard_summary(
    filters: TrialFilters, settings: ClinicSettings, today: date | None = None
) -> Summary:
    """The numbers behind /api/summary, from the dashboard's kept trials frame."""
    trials = current_trials_frame(filters, settings)
    return summarise(trials, settings, filters.unit, today)


def _month_args(month: str, filters: TrialFilters) -> dict[str, str]:
    """The month's first and last day, kept inside the date filters."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    last = date(year, number, calendar.monthrange(year, number)[1])
    if filters.since and filters.since > first:
        first = filters.since
    if filters.until and filters.until < last:
        last = filters.until
    return {"since": first.isoformat(), "until": last.isoformat()}
