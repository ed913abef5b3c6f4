"""Persistence of interviews, turns, evaluations and the pending-evaluation queue (SQLAlchemy 2)."""
