"""Users, clinic settings and the audit trail."""
