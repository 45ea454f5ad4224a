"""HTML pages from analysis results (Jinja2, autoescaped, self-contained)."""

from qualcode.report.audit import landis_koch, render_audit

__all__ = ["landis_koch", "render_audit"]
