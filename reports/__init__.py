"""Interview reports: built from a session's event log (pure), rendered for HR."""

from .builder import BANDS, SCHEMA, band_for, build_report, report_json

__all__ = ["BANDS", "SCHEMA", "band_for", "build_report", "report_json"]
