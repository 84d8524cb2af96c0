"""The local system: the AWS emulator (``emulator/``: moto server, IAM in front of it, its corrections per
service), the edge that plays API Gateway, Lambda and CloudFront (``edge/``, one package per service), and the
deploy into them (``deploy.py``, run by ``up.sh``)."""
