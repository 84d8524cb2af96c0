"""The CDK engine as the app loads it: the provider bindings, loaded on demand (``provider_bindings.py``)."""
