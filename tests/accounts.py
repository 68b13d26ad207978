"""The password every test account shares (imported by tests and helpers)."""

PASSWORD = "correct horse battery"
