"""The AWS emulator: moto server (``moto_server.py``, the entry point and its own routes), with IAM enforced
in front of it (``iam/``) and its corrections of moto, one module per service (``corrections/``); started and
stopped by ``local/emulator.sh``."""
