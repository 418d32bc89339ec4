"""HTTP API (FastAPI, /v1) for planners, finance officers and dashboards."""
