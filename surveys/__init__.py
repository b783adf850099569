"""Surveys answered by SMS and on the web."""
