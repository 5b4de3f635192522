"""The organisation tree and user scopes (issue #18): loading and checking a tree from
CSV or YAML, its versions over time, scopes, and ``visible_segments`` — on SQLite and
PostgreSQL, and through the ``cxlab`` command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from cxlab import org, tenancy
from cxlab.accounts import list_users
from cxlab.db.models import OrgLink, Response
from cxlab.errors import CxlabError, NotFound
from cxlab.org import OrgFileError, read_units_text
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import publish_survey
from sqlalchemy import func, select

CXLAB = str(Path(sys.executable).with_name("cxlab"))
TREE = """code,name,kind,parent
hq,Sakura Dining,head_office,
kanto,Kanto area,area,hq
kansai,Kansai area,area,hq
shibuya-01,Shibuya,store,kanto
shinjuku-02,Shinjuku,store,kanto
umeda-04,Umeda,store,kansai
"""
# On 1 June Shinjuku moves from Kanto to Kansai.
MOVED = TREE.replace("shinjuku-02,Shinjuku,store,kanto", "shinjuku-02,Shinjuku,store,kansai")
JUNE = datetime(2026, 6, 1, tzinfo=UTC)
PASSWORD = "correct horse battery"


def csv_units(text: str):
    return read_units_text(text, "csv")


def test_csv_and_yaml_give_the_same_tree(any_database):
    yaml_text = "units:\n" + "".join(
        f"  - {{code: {code}, name: {name}, kind: {kind}, parent: {parent or 'null'}}}\n"
        for code, name, kind, parent in (line.split(",") for line in TREE.splitlines()[1:]))
    with any_database.session() as session:
        acme = tenancy.create_tenant(session, "acme", "Acme")
        other = tenancy.create_tenant(session, "other", "Other")
        org.load_tree(session, acme, csv_units(TREE))
        org.load_tree(session, other, read_units_text(yaml_text, "yaml"))
        assert ([(r.code, r.parent, r.depth) for r in org.tree_rows(session, acme)]
                == [(r.code, r.parent, r.depth) for r in org.tree_rows(session, other)]
                == [("hq", None, 0), ("kansai", "hq", 1), ("umeda-04", "kansai", 2),
                    ("kanto", "hq", 1), ("shibuya-01", "kanto", 2),
                    ("shinjuku-02", "kanto", 2)])


@pytest.mark.parametrize(("text", "kind", "problems"), [
    (TREE + "shibuya-01,Again,store,kanto\n", "csv",
     ["line 8: code shibuya-01 is already on line 5"]),
    (TREE + "namba-05,Namba,store,kyushu\n", "csv",
     ["line 8: parent kyushu is not a code in the file"]),
    ("code,name,kind,parent\na,A,area,b\nb,B,area,a\nc,C,store,a\n", "csv",
     ["line 2: a is its own ancestor (a → b → a)"]),
    ("code,name,kind,parent\nhq,,head_office,\nx y,X,store,hq\n", "csv",
     ["line 2: name: give 1-200 characters",
      "line 3: code: give 1-100 characters without spaces, commas or slashes"]),
    ("code,name\nhq,HQ\n", "csv", ["line 1: the header lacks kind (write: code,name,kind,parent)"]),
    ("- {code: hq, name: HQ, kind: head_office}\n- {code: a, name: A, kind: area, parent: zz}\n",
     "yaml", ["line 2: parent zz is not a code in the file"]),
    ("- {code: hq, name: HQ\n", "yaml", None),
])
def test_a_bad_file_is_refused_naming_its_lines(database, text, kind, problems):
    with pytest.raises(OrgFileError) as refused, database.session() as session:
        acme = tenancy.create_tenant(session, "acme", "Acme")
        org.load_tree(session, acme, read_units_text(text, kind))
    if problems is None:  # broken YAML: a line number and the parser's word
        assert refused.value.problems[0].startswith("line ")
    else:
        assert refused.value.problems == problems
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(OrgLink)) == 0


def test_a_moved_store_keeps_its_old_answers_under_its_old_area(any_database):
    with any_database.session() as session:
        acme = tenancy.create_tenant(session, "acme", "Acme")
        first = org.load_tree(session, acme, csv_units(TREE))
        again = org.load_tree(session, acme, csv_units(TREE), effective=JUNE)
        moved = org.load_tree(session, acme, csv_units(MOVED), effective=JUNE)
        assert (first.added, again.unchanged, moved.moved, moved.unchanged) == (6, 6, 1, 5)
        before = [r.parent for r in org.tree_rows(session, acme, at=datetime(2026, 5, 31))
                  if r.code == "shinjuku-02"]
        now = [r.parent for r in org.tree_rows(session, acme) if r.code == "shinjuku-02"]
        assert (before, now) == (["kanto"], ["kansai"])
        kanto = org.visible_segments(session, acme.id, ["kanto"])
        kansai = org.visible_segments(session, acme.id, ["kansai"])
        store = org.visible_segments(session, acme.id, ["shinjuku-02"])
    may = datetime(2026, 5, 20, tzinfo=UTC)
    july = datetime(2026, 7, 1, tzinfo=UTC)
    assert (kanto.allows("shinjuku-02", may), kanto.allows("shinjuku-02", july)) == (True, False)
    assert (kansai.allows("shinjuku-02", may), kansai.allows("shinjuku-02", july)) == (False, True)
    assert store.allows("shinjuku-02", may) and store.allows("shinjuku-02", july)
    assert kanto.codes == {"kanto", "shibuya-01", "shinjuku-02"}
    # The same rule on a frame, as a Parquet filter and in SQL.
    frame = pd.DataFrame({"store": ["shinjuku-02", "shinjuku-02", "umeda-04", "shibuya-01"],
                          "submitted_at": pd.to_datetime([may, july, may, july], utc=True)})
    assert kanto.mask(frame, "store").tolist() == [True, False, False, True]
    import pyarrow as pa
    table = pa.Table.from_pandas(frame)
    assert table.filter(kanto.arrow_filter("store"))["store"].to_pylist() == [
        "shinjuku-02", "shibuya-01"]


def test_a_change_dated_before_the_last_one_is_refused(database):
    with database.session() as session:
        acme = tenancy.create_tenant(session, "acme", "Acme")
        org.load_tree(session, acme, csv_units(TREE))
        org.load_tree(session, acme, csv_units(MOVED), effective=JUNE)
        with pytest.raises(CxlabError, match="date this change after it"):
            org.load_tree(session, acme, csv_units(TREE), effective=datetime(2026, 5, 1,
                                                                              tzinfo=UTC))


def test_a_unit_left_out_is_retired_but_keeps_its_past(database):
    with database.session() as session:
        acme = tenancy.create_tenant(session, "acme", "Acme")
        org.load_tree(session, acme, csv_units(TREE))
        report = org.load_tree(session, acme, csv_units(TREE.replace(
            "umeda-04,Umeda,store,kansai\n", "")), effective=JUNE)
        kansai = org.visible_segments(session, acme.id, ["kansai"])
        assert report.retired == 1
        assert "umeda-04" not in [r.code for r in org.tree_rows(session, acme)]
    assert kansai.allows("umeda-04", datetime(2026, 5, 1, tzinfo=UTC))
    assert not kansai.allows("umeda-04", datetime(2026, 6, 2, tzinfo=UTC))


def test_scopes_stay_inside_their_tenant(any_database):
    with any_database.session() as session:
        acme = tenancy.create_tenant(session, "acme", "Acme")
        rival = tenancy.create_tenant(session, "rival", "Rival")
        org.load_tree(session, acme, csv_units(TREE))
        org.load_tree(session, rival, csv_units(TREE.replace("shibuya-01", "rival-01")))
        tenancy.create_user(session, acme, "kanto@acme.example", PASSWORD)
        tenancy.create_user(session, rival, "rita@rival.example", PASSWORD)
        org.set_scope(session, acme, "kanto@acme.example", ["kanto"])
        # Another tenant's user, and a unit only the other tenant has: not found.
        with pytest.raises(NotFound, match="no user"):
            org.set_scope(session, acme, "rita@rival.example", ["kanto"])
        with pytest.raises(NotFound, match="no unit rival-01"):
            org.set_scope(session, acme, "kanto@acme.example", ["rival-01"])
        user = session.scalar(select(tenancy.User).where(
            tenancy.User.email == "kanto@acme.example"))
        scope = org.user_scope(session, user.id)
        assert scope == ("kanto",)
        # Resolved in the rival tenant, acme's scope names rival's units of the same
        # code only: "kanto" is rival's kanto there, never acme's stores.
        assert org.visible_segments(session, rival.id, scope).codes == {
            "kanto", "rival-01", "shinjuku-02"}
        assert org.visible_segments(session, acme.id, ("nowhere",)).codes == frozenset()
        assert org.visible_segments(session, acme.id, None) is None
        assert [(row.email, row.scope) for row in list_users(session, "acme")] == [
            ("kanto@acme.example", ("kanto",))]


def tenant_with_answers(session, answers: list[tuple[str, int]]):
    """Tenant acme with the restaurant survey, TREE loaded, and an answer per (store,
    month) of 2026."""
    acme = tenancy.create_tenant(session, "acme", "Acme")
    survey = publish_survey(session, acme, load_definition(EXAMPLES_DIR / "restaurant_visit.yaml"))
    org.load_tree(session, acme, csv_units(TREE))
    for store, month in answers:
        session.add(Response(tenant_id=acme.id, survey_id=survey.id, survey_version=1,
                             submitted_at=datetime(2026, month, 10, tzinfo=UTC),
                             answers={"nps": 9}, attributes={"store": store}))
    session.flush()
    return acme, survey


def test_the_sql_condition_counts_only_the_scope(any_database):
    with any_database.session() as session:
        acme, _survey = tenant_with_answers(session, [
            ("shibuya-01", 5), ("shinjuku-02", 5), ("shinjuku-02", 7), ("umeda-04", 5)])
        org.load_tree(session, acme, csv_units(MOVED), effective=JUNE)
        kanto = org.visible_segments(session, acme.id, ["kanto"])
        condition = kanto.sql_condition(Response.attributes["store"].as_string(),
                                        Response.submitted_at)
        assert session.scalar(select(func.count()).select_from(Response)
                              .where(condition)) == 2


def run(environ, *args, expect_ok=True):
    process = subprocess.run([CXLAB, *args], capture_output=True, text=True,
                             env={**os.environ, **environ}, timeout=120)
    assert "Traceback" not in process.stderr, process.stderr
    assert (process.returncode == 0) == expect_ok, process.stderr + process.stdout
    return process


def test_the_command_loads_shows_and_scopes(environ, database, tmp_path):
    first, moved, bad = tmp_path / "org.csv", tmp_path / "moved.yaml", tmp_path / "bad.csv"
    first.write_text(TREE)
    moved.write_text("".join(
        f"- {{code: {c}, name: {n}, kind: {k}, parent: {p or 'null'}}}\n"
        for c, n, k, p in (line.split(",") for line in MOVED.splitlines()[1:])))
    bad.write_text(TREE + "namba-05,Namba,store,kyushu\n")
    run(environ, "tenant", "create", "acme", "--name", "Acme")
    subprocess.run([CXLAB, "user", "create", "--tenant", "acme", "kanto@acme.example"],
                   input=PASSWORD + "\n", text=True, env={**os.environ, **environ}, check=True)
    assert "6 added" in run(environ, "org", "load", "--tenant", "acme", str(first)).stdout
    assert "1 moved" in run(environ, "org", "load", "--tenant", "acme", "--from", "2026-06-01",
                            str(moved)).stdout
    refused = run(environ, "org", "load", "--tenant", "acme", str(bad), expect_ok=False)
    assert "line 8: parent kyushu is not a code in the file" in refused.stderr
    may = run(environ, "org", "show", "--tenant", "acme", "--at", "2026-05-01").stdout
    assert "  kanto  (area)  Kanto area\n    shibuya-01  (store)  Shibuya\n" \
           "    shinjuku-02" in may
    assert "    shinjuku-02" not in run(environ, "org", "show", "--tenant", "acme").stdout.split(
        "kanto  (area)")[1]
    run(environ, "user", "scope", "--tenant", "acme", "kanto@acme.example", "kanto")
    assert "kanto@acme.example" in run(environ, "user", "list", "--tenant", "acme").stdout
    assert run(environ, "user", "list", "--tenant", "acme").stdout.rstrip().endswith("kanto")
    unknown = run(environ, "user", "scope", "--tenant", "acme", "kanto@acme.example", "kyushu",
                  expect_ok=False)
    assert "no unit kyushu" in unknown.stderr
    run(environ, "user", "scope", "--tenant", "acme", "kanto@acme.example", expect_ok=False)
    run(environ, "user", "scope", "--tenant", "acme", "--whole-tenant", "kanto@acme.example")
    assert run(environ, "user", "list", "--tenant", "acme").stdout.rstrip().endswith(
        "whole tenant")


def test_scope_conditions_count_responses_and_invitations(any_database):
    from cxlab.db.models import Invitation
    from cxlab.org.scoped import scope_conditions

    stores = ["shibuya-01", "umeda-04", "umeda-04"]
    with any_database.session() as session:
        acme, survey = tenant_with_answers(session, [(store, 5) for store in stores])
        for number, store in enumerate(stores):
            session.add(Invitation(tenant_id=acme.id, survey_id=survey.id, token=f"t{number}",
                                   attributes={"store": store}))
        session.flush()
        kansai = scope_conditions(session, acme.id, ["kansai"])
        assert scope_conditions(session, acme.id, None) is None
        assert session.scalar(select(func.count()).select_from(Response)
                              .where(kansai.responses)) == 2
        assert session.scalar(select(func.count()).select_from(Invitation)
                              .where(kansai.invitations)) == 2


def test_rollups_follow_the_tree_at_each_answers_time(database):
    from cxlab import analysis

    with database.session() as session:
        acme, _survey = tenant_with_answers(session, [])
        org.load_tree(session, acme, csv_units(MOVED), effective=JUNE)
        top = org.rollup_units(session, acme.id, None)
        kanto = org.rollup_units(session, acme.id, ["kanto"])
        assert org.rollup_units(session, acme.id, ["shibuya-01"]) is None
        both = org.rollup_units(session, acme.id, ["kanto", "umeda-04"])
    assert [unit.code for unit in top] == ["kansai", "kanto"]
    # Shinjuku left Kanto in June: still one of its rows, for its answers before.
    assert [unit.code for unit in kanto] == ["shibuya-01", "shinjuku-02"]
    assert [unit.code for unit in both] == ["kanto", "umeda-04"]
    may, july = datetime(2026, 5, 10, tzinfo=UTC), datetime(2026, 7, 10, tzinfo=UTC)
    answers = pd.DataFrame({
        "store": ["shinjuku-02"] * 12 + ["umeda-04"] * 6 + ["shibuya-01"] * 5,
        "submitted_at": pd.to_datetime([may] * 6 + [july] * 6 + [may] * 6 + [july] * 5,
                                       utc=True),
        "nps": [10] * 6 + [0] * 6 + [9] * 6 + [5] * 5})
    labels = org.label_answers(answers, top, "store")
    assert labels.tolist() == ["kanto"] * 6 + ["kansai"] * 12 + ["kanto"] * 5
    table = analysis.nps_by_unit(answers, "nps", labels, min_group=5,
                                 order=[unit.code for unit in top]).set_index("unit")
    # Kansai: Shinjuku's July zeros and Umeda's nines; Kanto: Shinjuku's May tens and
    # Shibuya's fives.
    assert table.loc["kansai", "n"] == 12 and table.loc["kansai", "nps"] == 0.0
    assert table.loc["kanto", "n"] == 11 and round(table.loc["kanto", "nps"], 1) == round(
        100 * (6 - 5) / 11, 1)
    small = analysis.nps_by_unit(answers, "nps", labels, min_group=12,
                                 order=[unit.code for unit in top]).set_index("unit")
    assert small["hidden"].all() and small["nps"].isna().all()
