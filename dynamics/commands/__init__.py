"""What users call: the command line, ``check``, the catalog commands and the figures."""
