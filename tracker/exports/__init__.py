"""CSV downloads of trials, follow-ups and the audit trail; uploads of past trials."""
