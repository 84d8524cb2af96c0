"""The website (tutorial sections 5-7.3): bucket, assets, CloudFront, headers, firewall and access logs."""
