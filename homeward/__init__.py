"""Homeward service glue: settings, storage, import, demo data, pipeline, scheduler and CLI."""
