"""Prefect tasks: each one calls the business rules over a whole batch."""
