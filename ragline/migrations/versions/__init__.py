"""One file per schema revision, oldest first; each states its own DDL, never the models'."""
