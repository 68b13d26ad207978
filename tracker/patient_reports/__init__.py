"""Outcomes that arrive: the patient's result sheet and reports from home by link."""
