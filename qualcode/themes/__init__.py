"""Emergent themes: BERTopic topic models over respondent segments, offline by default."""

from qualcode.themes.discover import GROUPINGS, Options, ThemesRun, discover

__all__ = ["GROUPINGS", "Options", "ThemesRun", "discover"]
