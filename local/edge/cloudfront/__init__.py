"""CloudFront's part of the local edge: the site's distribution, at ``http://localhost:<site_port>/`` (``site.py``)."""
