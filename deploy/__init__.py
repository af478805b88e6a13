"""Running Candor as several nodes: a local cluster on loopback (``python -m deploy.cluster``) and the
production shape's compose file (``deploy/compose.yaml``); docs/deploy.md explains both."""
