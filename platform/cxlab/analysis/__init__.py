"""cxlab.analysis: turn a responses DataFrame into the answers a client pays for.

One function per question, pandas in, a tidy DataFrame (or a small dataclass of them)
out; see docs/analysis.md for the formulas and references.

- :func:`nps`, :func:`nps_by` — NPS/eNPS with shares and a confidence interval,
  overall, by segment, by period.
- :func:`drivers` — key-driver analysis: LMG relative importance (pingouin), Spearman,
  performance, improvement priority and quadrant, bootstrap intervals, VIF warnings.
- :func:`improvement_effect` — improvement effect in NPS points per item (penalty–reward
  contrast, what-if NPS with a bootstrap interval).
- :func:`ratings` — mean, top-2-box and distribution per rating item.
- :func:`reliability` — Cronbach's alpha with CI, item-total r, alpha-if-deleted.
- :func:`compare_segments` — Welch ANOVA / Kruskal–Wallis / chi-square with Holm-
  corrected pairwise tests; small segments marked "too few answers".
- :func:`trend` — a metric per period with CI and significant changes.
- :func:`response_rate` — sent, responded, rate by segment.
- :func:`comment_summary` — comment counts, lengths and frequent terms (Japanese and
  English).
- :func:`comment_topics` — key phrases (Japanese noun compounds by SudachiPy), topics
  (keyword lists or NMF) and each topic's share of detractors vs promoters.
"""

from cxlab.analysis.comments import CommentSummary, comment_summary
from cxlab.analysis.drivers import DriverAnalysis, drivers
from cxlab.analysis.improvement import ImprovementEffect, improvement_effect
from cxlab.analysis.nps import nps, nps_by, nps_from_counts
from cxlab.analysis.ratings import ratings
from cxlab.analysis.reliability import Reliability, reliability
from cxlab.analysis.response_rate import format_rate, response_rate
from cxlab.analysis.rollup import nps_by_unit
from cxlab.analysis.segments import SegmentComparison, compare_segments
from cxlab.analysis.topics import CommentTopics, comment_topics
from cxlab.analysis.trend import trend

# The old name of comment_summary, kept because consultants' notebooks copied from
# notebooks/explore.ipynb call analysis.text(...); new code calls comment_summary.
text = comment_summary

__all__ = [
    "CommentSummary",
    "CommentTopics",
    "DriverAnalysis",
    "ImprovementEffect",
    "Reliability",
    "SegmentComparison",
    "comment_summary",
    "comment_topics",
    "compare_segments",
    "drivers",
    "format_rate",
    "improvement_effect",
    "nps_by_unit",
    "nps",
    "nps_by",
    "nps_from_counts",
    "ratings",
    "reliability",
    "response_rate",
    "text",
    "trend",
]
