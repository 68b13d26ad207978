"""What a new password may not be: NIST SP 800-63B's rules for passwords.

Besides the minimum length (:data:`tracker.auth.forms.PASSWORD_MIN`), a new
password is compared with values known to be commonly used, expected or
compromised (SP 800-63B §5.1.1.2; §3.1.1.2 in revision 4):

- the 30,000 most common passwords of leaked password corpora, the list
  zxcvbn ships (its ``passwords`` frequency list), whatever the case and
  the spaces;
- passwords that zxcvbn's matchers take apart into such passwords,
  dictionary words, names, dates, repeats (``aaaa``), sequences (``1234``,
  ``abcd``) or keyboard patterns, and so estimate at fewer than
  :data:`MIN_GUESSES` guesses (zxcvbn's own threshold for its score 3);
- the user name, or one containing it; the password it replaces.

There are no composition rules (NIST advises against them), and nothing is
looked up over the network: the list is data in the zxcvbn package, loaded
on the first check so that commands that set no password need not load it.
"""

from functools import cache

from ..web.forms import clean_text

#: zxcvbn's score 3: "safely unguessable", moderate protection offline.
MIN_GUESSES = 10**8
#: zxcvbn refuses longer input; the rest of a longer password only adds to it.
ZXCVBN_MAX_LENGTH = 72
#: Words of this service that a guesser would try first. The same on every
#: call: zxcvbn keeps them in a module-level table that threads share.
CONTEXT_WORDS = ("orthotic", "orthotics", "tracker", "clinic", "insole", "insoles")
#: User names shorter than this are too common a fragment to forbid inside.
NAME_FRAGMENT_MIN = 3

BLANK = "A password needs more than spaces."
HAS_USERNAME = "Do not use the user name in the password."
IS_CURRENT = "Choose a new password, not the current one."
COMMON = (
    "This password is on a list of commonly used and breached passwords. "
    "Choose another."
)
GUESSABLE = "This password is too easy to guess."
ADVICE = "A few unrelated words make a strong password."


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _folded(text: str) -> str:
    return text.casefold()


def is_common(password: str) -> bool:
    """Whether the password, ignoring case and spaces, is a listed common one."""
    folded = _folded(password)
    return bool({folded, "".join(folded.split())} & _common_passwords())


def weakness(password: str) -> str | None:
    """Why zxcvbn finds the password easy to guess, or None if it does not."""
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=list(CONTEXT_WORDS))
    if result["guesses"] >= MIN_GUESSES:
        return None
    warning = result["feedback"]["warning"]
    return " ".join(part for part in (GUESSABLE, warning, ADVICE) if part)


def problem(
    password: str, *, username: str | None = None, current: str | None = None
) -> str | None:
    """Why ``password`` may not be set, or None if it may.

    ``username`` is the account's name; ``current`` the password it
    replaces, when known as typed. The length is checked elsewhere.
    """
    if not clean_text(password):
        return BLANK
    name = _folded(username or "")
    if name and (
        _folded(password) == name
        or (len(name) >= NAME_FRAGMENT_MIN and name in _folded(password))
    ):
        return HAS_USERNAME
    if current is not None and password == current:
        return IS_CURRENT
    if is_common(password):
        return COMMON
    return weakness(password)
