"""Persistent data model: SQLAlchemy 2 tables for observations, runs, forecasts and plans."""
