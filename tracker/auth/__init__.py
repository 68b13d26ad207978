"""Logins, the first-run setup and password changes."""
