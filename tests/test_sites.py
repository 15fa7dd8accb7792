"""An organisation's own sites and systems from CSV (issue 9, part 1): added or updated by
slug, every problem line-numbered, and nothing written unless every row is good."""

import pytest
from conftest import snapshot
from sqlalchemy import func, select

from restore import queries, schema, sites
from restore.audit import entries
from restore.cli import main
from restore.directory import SYSTEM
from restore.store import Store, branch_systems
from restore.transfer import ImportRefused

BRANCHES = b"""name,slug,region,area,is_hq
Dublin Head Office,dublin-ho,Dublin,,yes
St James's Hospital,st-james,Dublin,Dublin South,no
Cork University Hospital,cork-uh,South,Cork,
"""
SYSTEMS = b"key,name\nehr,Patient record\nlab,Laboratory\n"


@pytest.fixture
def empty(db_url):
    store = Store(db_url)
    schema.upgrade(store)
    yield store
    store.dispose()


def count_pairs(store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(branch_systems)).scalar()


def test_own_sites_and_systems_load_and_every_site_gets_every_system(empty):
    done = sites.load(empty, SYSTEM, branch_csv=BRANCHES, system_csv=SYSTEMS)
    assert (done.branches_added, done.systems_added) == (3, 2)
    assert count_pairs(empty) == 6
    listed = queries.branch_list(empty).set_index("slug")
    assert listed.loc["st-james", "area"] == "Dublin South" and listed.loc["dublin-ho", "is_hq"]


def test_loading_again_updates_by_slug_and_audits_the_change(empty):
    sites.load(empty, SYSTEM, branch_csv=BRANCHES, system_csv=SYSTEMS)
    moved = BRANCHES.replace(b"Cork,\n", b"Cork North,\n")
    done = sites.load(empty, SYSTEM, branch_csv=moved)
    assert (done.branches_added, done.branches_updated) == (0, 1)
    newest = entries(empty, limit=1).iloc[0]
    assert (newest["action"], newest["subject"]) == ("branch.update", "cork-uh")
    assert "Cork North" in newest["details"] and '"Cork"' in newest["details"]


def test_a_bad_file_is_refused_with_line_numbers_and_writes_nothing(empty):
    bad = b"name,slug,region\nGood,good,North\n,Bad Slug,\nGood again,good,North\nx,ok,Re\x00gion\n"
    before = snapshot(empty)
    with pytest.raises(ImportRefused) as refused:
        sites.load(empty, SYSTEM, branch_csv=bad, system_csv=b"key,name\nehr,\n")
    said = "\n".join(refused.value.errors)
    for expected in ("line 3: name must be", "line 3: slug 'Bad Slug'", "line 3: region is",
                     "line 4: slug 'good' is also on line 2", "line 5: region contains control",
                     "systems file, line 2: name is required"):  # fmt: skip
        assert expected in said
    assert snapshot(empty) == before


def test_a_wrong_header_and_a_name_given_to_two_slugs_are_refused(empty):
    with pytest.raises(ImportRefused, match=r"line 1: wrong header \(missing column\(s\) region"):
        sites.load(empty, SYSTEM, branch_csv=b"name,slug\nA,a\n")
    sites.load(empty, SYSTEM, branch_csv=BRANCHES)
    before = snapshot(empty)
    with pytest.raises(ImportRefused, match="would belong to cork-uh, new"):
        sites.load(empty, SYSTEM, branch_csv=b"name,slug,region\nCork University Hospital,new,X\n")
    assert snapshot(empty) == before


def test_seed_takes_the_files_on_the_command_line(db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RESTORE_DATABASE_URL", db_url)
    assert main(["init"]) == 0
    (tmp_path / "b.csv").write_bytes(BRANCHES)
    (tmp_path / "s.csv").write_bytes(SYSTEMS)
    assert main(["seed", "--branches", str(tmp_path / "b.csv"), "--systems",
                 str(tmp_path / "s.csv")]) == 0  # fmt: skip
    assert "branches: 3 added, 0 updated; systems: 2 added" in capsys.readouterr().out
    (tmp_path / "bad.csv").write_bytes(b"name,slug,region\nX,Not A Slug,Y\n")
    assert main(["seed", "--branches", str(tmp_path / "bad.csv")]) == 2
    assert "line 2: slug 'Not A Slug'" in capsys.readouterr().err
