"""The dashboard's statistical terms in plain words, for its glossary and titles."""

#: The statistical terms the dashboard uses: each one as shown, and what it
#: means in plain words. The page lists them in its glossary and gives each
#: as the ``<abbr>`` title where the term appears.
GLOSSARY = {
    "sensitivity": (
        "Sensitivity",
        "of the patients who got long-term benefit, the share who felt relief "
        "at once. High: few patients the aid would help are missed.",
    ),
    "specificity": (
        "Specificity",
        "of the patients who got no long-term benefit, the share who felt no "
        "relief at once. High: few are sent home with an aid that will not help.",
    ),
    "ppv": (
        "PPV",
        "positive predictive value: of the patients who felt relief at once, "
        "the share who were better at the follow-up.",
    ),
    "npv": (
        "NPV",
        "negative predictive value: of the patients who felt no relief, the "
        "share who were not better at the follow-up.",
    ),
    "lr_positive": (
        "LR+",
        "positive likelihood ratio: how many times more often relief at once is "
        "seen in patients who get better than in those who do not. 1 means "
        "relief tells you nothing; above 2 it makes benefit clearly more likely.",
    ),
    "lr_negative": (
        "LR−",
        "negative likelihood ratio: the same for no relief at once. 1 means no "
        "relief tells you nothing; below 0.5 it makes benefit clearly less likely.",
    ),
    "auc": (
        "AUC",
        "area under the ROC curve: the chance that a patient who got better had "
        "a bigger drop in pain at once than one who did not. 0.5 is a coin "
        "toss, 1 a perfect split.",
    ),
    "youden": (
        "Youden index",
        "sensitivity plus specificity minus 1: 0 for a cut-off no better than "
        "chance, 1 for a perfect one. The best cut-off has the largest.",
    ),
    "ci": (
        "95% CI",
        "confidence interval: the range the true figure most likely lies in, "
        "given how many patients it rests on (95 of 100 ranges worked out this "
        "way hold the true figure). Few patients give a wide range.",
    ),
    "wilson": (
        "Wilson interval",
        "the 95% interval of a share such as 12 of 40; it stays sensible for "
        "small numbers and for shares near 0% or 100%.",
    ),
    "cluster": (
        "Cluster interval (‡)",
        "a 95% interval that allows for a patient counting more than once, "
        "whose trials tend to turn out alike; usually wider than Wilson's.",
    ),
    "funnel": (
        "Funnel plot limits",
        "how far from the pooled rate a group of that size strays by chance "
        "alone: 95 of 100 such groups fall within the 95% limits (dashed), 998 "
        "of 1,000 within the 99.8% limits (dotted). Small groups get wide limits.",
    ),
    "risk_difference": (
        "Risk difference",
        "the share with long-term benefit among patients with relief at once "
        "minus the share among those without, in percentage points.",
    ),
    "risk_ratio": (
        "Risk ratio",
        "the share with long-term benefit among patients with relief at once "
        "divided by the share among those without: 2 means twice as likely.",
    ),
    "odds_ratio": (
        "Odds ratio",
        "the same comparison in odds (benefit against no benefit) instead of "
        "shares; further from 1 than the risk ratio when benefit is common.",
    ),
    "p_value": (
        "p-value",
        "how often a difference at least this large would turn up by chance if "
        "there were none; below 0.05, chance alone is an unlikely explanation.",
    ),
    "holm": (
        "Holm's adjustment",
        "raises the p-values of the three pairs of aids together, so that three "
        "comparisons do not make a chance difference look real.",
    ),
    "mcid": (
        "MCID",
        "minimal clinically important difference: the smallest drop in pain "
        "patients notice as worthwhile, at least 2 points or 30% of the pain on "
        "the 0–10 scale (Farrar et al. 2001).",
    ),
}
