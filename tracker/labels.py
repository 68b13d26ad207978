"""What the screens call the stored codes: aids, activities, ratings, roles.

The keys are the codes the database stores (and its CHECK constraints allow);
the values are the words a therapist reads. Nothing heavy is imported here,
so every command can use them.
"""

INTERVENTIONS = {
    "insole": "Insoles (foot orthoses)",
    "taping": "Taping",
    "brace": "Knee brace",
}
ACTIVITIES = {
    "single_leg_squat": "Single-leg squat",
    "step_down": "Step down",
    "stairs_up": "Stairs up",
    "stairs_down": "Stairs down",
    "squat": "Squat",
    "running": "Running",
    "walking": "Walking",
    "prolonged_sitting": "Prolonged sitting",
    "other": "Other",
}
RATING_LABELS = {
    "markedly_worse": "Markedly worse",
    "moderately_worse": "Moderately worse",
    "same": "Same",
    "moderately_improved": "Moderately improved",
    "markedly_improved": "Markedly improved",
}
ROLES = {
    "therapist": "Therapist: records patients, trials and follow-ups",
    "reviewer": "Reviewer: reads records, dashboards, exports and the audit trail",
    "admin": "Administrator: everything, plus users and clinic settings",
}
SEXES = {"female": "Female", "male": "Male", "other": "Other"}
SIDES = {"left": "Left", "right": "Right", "both": "Both"}

#: Every relief criterion the rule check compares, as people read it: the drop
#: in pain with the aid that counts as relief (see
#: ``analysis.rule.immediate_relief``; 30% is of the pain without the aid).
#: The keys are the stored codes, which the API and the CSV files keep.
RELIEF_CRITERION_NAMES = {
    "any": "at least 1 point (any drop)",
    "two_points": "at least 2 points",
    "thirty_percent": "at least 30%",
    "mcid": "at least 2 points or 30% (MCID)",
}
#: The criteria a clinic can choose (``analysis.CLINIC_RELIEF_CRITERIA``).
RELIEF_CRITERION_LABELS = {
    code: RELIEF_CRITERION_NAMES[code] for code in ("any", "mcid")
}
#: Who gave a follow-up: a therapist at the clinic, or the patient by link.
FOLLOW_UP_SOURCES = {
    "clinic": "Recorded at the clinic",
    "patient": "Reported by the patient",
}
#: Where a trial stands with its outcome follow-up (computed, never stored).
FOLLOW_UP_STATUSES = {
    "awaiting": "Awaiting (too early for the outcome)",
    "due": "Due",
    "overdue": "Overdue",
    "outcome_recorded": "Outcome recorded",
    "lost": "Lost to follow-up",
}

#: Who must sign in with a second factor, as the settings page offers it.
TWO_FACTOR_LABELS = {
    "nobody": "Nobody (each user may choose it)",
    "admins": "Admins",
    "admins_and_reviewers": "Admins and reviewers",
}
#: Where a group lies in its funnel plot, in words.
FUNNEL_POSITION_WORDS = {
    "below_998": "below the 99.8% limit",
    "below_95": "below the 95% limit",
    "inside": "within the 95% limits",
    "above_95": "above the 95% limit",
    "above_998": "above the 99.8% limit",
    "no_cases": "no outcomes yet",
}
