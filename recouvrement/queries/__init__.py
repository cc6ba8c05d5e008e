"""The read side: what the commands, the dossier and the report show, read from the ledger
and never written to it."""
