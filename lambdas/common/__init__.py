"""Code shared by the functions: names, configuration, clients, HTTP shaping, validation, logging."""
