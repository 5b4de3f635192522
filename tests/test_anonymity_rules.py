"""cxlab.anonymity's rules hold for any table: nothing small is shown, and what can be
subtracted from a shown total is never a single small group."""

from __future__ import annotations

from cxlab.anonymity import may_show_part, suppressed_groups
from hypothesis import given, settings
from hypothesis import strategies as st

tables = st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 40), max_size=8)


@settings(max_examples=300, deadline=None)
@given(counts=tables, min_group=st.integers(1, 10))
def test_no_small_group_shows_and_the_hidden_rest_is_never_small(counts, min_group):
    hidden = suppressed_groups(counts, min_group)
    shown = {group: n for group, n in counts.items() if group not in hidden}
    assert all(n == 0 or n >= min_group for n in shown.values())
    # total − shown = the hidden groups together: empty, or at least two groups adding
    # up to min_group — unless every non-empty group is hidden (nothing to subtract).
    rest = sum(counts[group] for group in hidden)
    everything_hidden = all(n == 0 for n in shown.values())
    assert not hidden or everything_hidden or (len(hidden) >= 2 and rest >= min_group)


@settings(max_examples=300, deadline=None)
@given(part=st.integers(0, 100), extra=st.integers(0, 100), min_group=st.integers(1, 10))
def test_a_shown_part_and_its_whole_never_differ_by_a_small_group(part, extra, min_group):
    if may_show_part(part, part + extra, min_group):
        assert part >= min_group and (extra == 0 or extra >= min_group)
