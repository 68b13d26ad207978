"""The Anterior Knee Pain Scale (AKPS): its 13 items as data, and their total.

The questionnaire as published by Kujala UM, Jaakkola LH, Koskinen SK,
Taimela S, Hurme M and Nelimarkka O, "Scoring of patellofemoral disorders",
Arthroscopy 1993;9(2):159-163: each item's options in order with their
points, 0 to 100 in all, higher is better. Versions printed since differ in
a few options' points; this is the 1993 one, the version the scale was
validated in and that Crossley et al. (Arch Phys Med Rehabil
2004;85:815-822) used to find its minimal clinically important difference,
about 10 points (:data:`MCID`).

Answers are stored as each item's points, which are distinct within an item,
so the points name the option. A questionnaire is complete (all 13 items)
or absent; :func:`total` refuses one answered in part. No NumPy or pandas
here, so the forms and the trial file's checks (issue 19, not built yet) can
import it at no cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ITEMS",
    "MAXIMUM",
    "MCID",
    "Item",
    "Option",
    "check_points",
    "total",
]

#: Crossley et al. 2004: the smallest change in the total that patients notice.
MCID = 10


@dataclass(frozen=True)
class Option:
    """One answer to an item, as printed, and the points it scores."""

    text: str
    points: int


@dataclass(frozen=True)
class Item:
    """One item: its number (1-13), a short key, its question and its options."""

    number: int
    key: str
    text: str
    options: tuple[Option, ...]

    @property
    def points(self) -> tuple[int, ...]:
        """The points its options score, in the order printed (best first)."""
        return tuple(option.points for option in self.options)

    @property
    def most(self) -> int:
        return max(self.points)


def _item(number: int, key: str, text: str, *options: tuple[str, int]) -> Item:
    return Item(number, key, text, tuple(Option(*option) for option in options))


ITEMS: tuple[Item, ...] = (
    _item(1, "limp", "Limp", ("None", 5), ("Slight or periodical", 3), ("Constant", 0)),
    _item(
        2,
        "support",
        "Support",
        ("Full support without pain", 5),
        ("Painful", 3),
        ("Weight bearing impossible", 0),
    ),
    _item(
        3,
        "walking",
        "Walking",
        ("Unlimited", 5),
        ("More than 2 km", 3),
        ("1-2 km", 2),
        ("Unable", 0),
    ),
    _item(
        4,
        "stairs",
        "Stairs",
        ("No difficulty", 10),
        ("Slight pain when descending", 8),
        ("Pain both when descending and ascending", 5),
        ("Unable", 0),
    ),
    _item(
        5,
        "squatting",
        "Squatting",
        ("No difficulty", 5),
        ("Repeated squatting painful", 4),
        ("Painful each time", 3),
        ("Possible with partial weight bearing", 2),
        ("Unable", 0),
    ),
    _item(
        6,
        "running",
        "Running",
        ("No difficulty", 10),
        ("Pain after more than 2 km", 8),
        ("Slight pain from start", 6),
        ("Severe pain", 3),
        ("Unable", 0),
    ),
    _item(
        7,
        "jumping",
        "Jumping",
        ("No difficulty", 10),
        ("Slight difficulty", 7),
        ("Constant pain", 2),
        ("Unable", 0),
    ),
    _item(
        8,
        "prolonged_sitting",
        "Prolonged sitting with the knees flexed",
        ("No difficulty", 10),
        ("Pain after exercise", 8),
        ("Constant pain", 6),
        ("Pain forces to extend knees temporarily", 4),
        ("Unable", 0),
    ),
    _item(
        9,
        "pain",
        "Pain",
        ("None", 10),
        ("Slight and occasional", 8),
        ("Interferes with sleep", 6),
        ("Occasionally severe", 3),
        ("Constant and severe", 0),
    ),
    _item(
        10,
        "swelling",
        "Swelling",
        ("None", 10),
        ("After severe exertion", 8),
        ("After daily activities", 6),
        ("Every evening", 4),
        ("Constant", 0),
    ),
    _item(
        11,
        "kneecap_movements",
        "Abnormal painful kneecap (patellar) movements (subluxations)",
        ("None", 10),
        ("Occasionally in sports activities", 6),
        ("Occasionally in daily activities", 4),
        ("At least one documented dislocation", 2),
        ("More than two dislocations", 0),
    ),
    _item(
        12,
        "thigh_atrophy",
        "Atrophy of thigh",
        ("None", 5),
        ("Slight", 3),
        ("Severe", 0),
    ),
    _item(
        13,
        "flexion_deficiency",
        "Flexion deficiency",
        ("None", 5),
        ("Slight", 3),
        ("Severe", 0),
    ),
)
#: The best total: every item's best option.
MAXIMUM = sum(item.most for item in ITEMS)


def check_points(item: Item, points: int) -> None:
    """Refuse ``points`` that none of ``item``'s options scores, saying which do."""
    if isinstance(points, bool) or not isinstance(points, int):
        raise TypeError(f"points must be a whole number, not {points!r}")
    if points not in item.points:
        *rest, last = (str(p) for p in item.points)
        raise ValueError(
            f"{points} is not a score of item {item.number} ({item.text.lower()}): "
            f"{', '.join(rest)} or {last}"
        )


def total(points: Sequence[int | None]) -> int | None:
    """The questionnaire's total from each item's points, item 1 first.

    None when no item is answered; a ``ValueError`` naming the items left
    blank when only some are, or the item whose points no option scores.
    """
    if len(points) != len(ITEMS):
        raise ValueError(f"the scale has {len(ITEMS)} items, not {len(points)}")
    blank = [
        item.number for item, given in zip(ITEMS, points, strict=True) if given is None
    ]
    if len(blank) == len(ITEMS):
        return None
    if blank:
        listed = ", ".join(str(number) for number in blank)
        raise ValueError(
            f"answer every item or none: item{'s' if len(blank) > 1 else ''} "
            f"{listed} left blank"
        )
    for item, given in zip(ITEMS, points, strict=True):
        check_points(item, given)
    return sum(points)
