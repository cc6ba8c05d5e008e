"""What a user or a scheduler starts: the command line, the daily run's driver, the demos
and the synthetic ledgers they play."""
