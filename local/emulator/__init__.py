"""The AWS emulator: moto server with corrections (``moto_server.py``), IAM enforced in front of it
(``iam.py``) and alarm notifications (``alarms.py``); started and stopped by ``local/emulator.sh``."""
