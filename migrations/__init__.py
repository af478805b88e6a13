"""Schema migrations (Alembic): ``python -m server migrate`` (docs/deploy.md comes with issue 13)."""
