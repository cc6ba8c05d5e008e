"""Collection-agency mode: the creditors (mandants) an agency works for, each with its own
ledger, and what the Code des procédures civiles d'exécution (R124-1 to R124-7, L111-8)
asks of the agency."""
