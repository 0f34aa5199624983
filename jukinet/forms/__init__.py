"""Forms staff fill in: the discovery report (run parameters) and every human step, as pydantic models.

Titles and choices are Japanese; times are a date plus an "HH:MM" Japan-time string, so the UI's
UTC default for datetimes can never shift them.
"""
