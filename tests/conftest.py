"""Fixtures shared by the test modules; each area keeps its own in a plugin module here."""

pytest_plugins = ["mail_fixtures"]
