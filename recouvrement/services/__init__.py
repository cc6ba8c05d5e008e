"""What changes the ledger: one module per use case, each a transaction over the adapters,
the rules asked of the domain."""
