"""Settings and the creditor a command works for: read once, checked, passed down."""
