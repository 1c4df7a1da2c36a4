"""A local, fault-injecting stand-in for vendor APIs, for contract tests and `chorus sandbox`."""
