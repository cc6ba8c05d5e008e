"""Prefect flows: thin wiring of the tasks."""
