"""Thin route modules, one per resource; logic lives in homeward/ and the engines."""
