"""A tenant's organisation: the tree of units (head office → areas → stores, or
departments), versioned over time (:mod:`cxlab.org.tree`), read from CSV or YAML
(:mod:`cxlab.org.files`), and the scope of each portal user with the one answer to
"which answers may this user see" (:mod:`cxlab.org.scope`).

>>> from cxlab.org import visible_segments
>>> visible_segments(None, 1, None) is None  # no scope: the whole tenant
True
"""

from pathlib import Path

from cxlab.org.files import OrgFileError, UnitLine, read_units, read_units_text
from cxlab.org.scope import (
    RollupUnit,
    Visibility,
    label_answers,
    parse_scope,
    rollup_units,
    set_scope,
    user_scope,
    visible_segments,
)
from cxlab.org.tree import LoadReport, TreeRow, check_tree, load_tree, tree_rows

# Example trees: the demo's restaurant chain (its stores are restaurant_visit.yaml's).
EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"

__all__ = [
    "EXAMPLES_DIR",
    "LoadReport", "OrgFileError", "RollupUnit", "TreeRow", "UnitLine", "Visibility",
    "check_tree", "label_answers", "load_tree", "parse_scope", "read_units",
    "read_units_text", "rollup_units", "set_scope", "tree_rows", "user_scope",
    "visible_segments",
]
