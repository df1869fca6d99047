"""The frozen ruler: cases, rubric, judges, quality with intervals, gates, the lock."""
