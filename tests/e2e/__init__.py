"""Browser journeys through the running app (Playwright)."""
