"""The integrity check: the CS copy of residents' identity records against the town's registry."""
