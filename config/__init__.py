"""The one validated configuration (``settings.py``): config.toml, environment overrides, derived values."""
