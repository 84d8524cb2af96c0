"""The local system: the AWS emulator (``emulator/``), the edge that plays API Gateway, Lambda and CloudFront
(``edge/``), and the deploy into them (``deploy.py``, run by ``up.sh``)."""
