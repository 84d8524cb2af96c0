"""The one validated configuration: the model and its constants (``settings.py``, the import point), its
checks (``validation.py``) and the reading of config.toml and the environment (``loading.py``)."""
