"""The old import path of :mod:`cxlab.weekly_report`, kept for notebooks copied before the
rename (``from cxlab.reports import weekly_report``). New code imports
:mod:`cxlab.weekly_report`.
"""

from cxlab.weekly_report import SurveyReport, WeeklyReport, weekly_report

__all__ = ["SurveyReport", "WeeklyReport", "weekly_report"]
