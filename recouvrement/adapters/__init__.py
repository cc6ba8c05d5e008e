"""The outside world behind the services: the database, mail, SMS, letters, the audit log,
the orchestrator, files on disk."""
