"""Scheduled jobs: the schedule file(s) and the job runner."""
