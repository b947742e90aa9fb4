"""The static site's parts: options, theme (templates + CSS), pages, feeds and images.

`connectors/static_site.py` is the connector (the publish contract and the manifest); the
modules here turn the manifest into files, each with one job.
"""
