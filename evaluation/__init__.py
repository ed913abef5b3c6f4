"""Scores a finished interview's transcript: judge, evidence checks, weighted arithmetic, reports."""
