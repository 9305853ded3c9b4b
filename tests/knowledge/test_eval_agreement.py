"""The second annotator's pass on the test split, and the agreement figures (knowledge.eval.agreement)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.eval import agreement
from knowledge.eval.agreement import (
    SECOND_PASS_PATH,
    AgreementDataError,
    cohen_kappa,
    compare,
    load_second_pass,
    parse_second_pass,
)
from knowledge.eval.real import LABELS, RealMessage, catalogue_codes, load_messages

CODES = ("43PCP0002", "43PCN0009")
TEST_IDS = ("b1", "b2", "w001")
ALL_IDS = (*TEST_IDS, "b3")  # b3 plays a dev message


@pytest.fixture(scope="module")
def first() -> list[RealMessage]:
    return load_messages()


def _entries(**overrides: dict) -> list[dict]:
    base = {
        "b1": {"id": "b1", "label": "complaint"},
        "b2": {"id": "b2", "label": "question", "note": "a policy point"},
        "w001": {"id": "w001", "label": "thing", "things": ["43PCN0009"]},
    }
    base.update(overrides)
    return [v for v in base.values() if v is not None]


def _parse(items: list[dict]) -> list[agreement.SecondLabel]:
    return parse_second_pass(items, TEST_IDS, CODES, all_ids=ALL_IDS)


# --------------------------------------------------------------------------- kappa


def test_kappa_perfect_agreement_is_one() -> None:
    labels = ["thing", "complaint", "question", "complaint", "chitchat"]
    assert cohen_kappa(labels, labels) == pytest.approx(1.0)


def test_kappa_one_label_only_counts_as_perfect() -> None:
    # Chance agreement is 1 and kappa would be 0/0; identical labels are perfect agreement.
    assert cohen_kappa(["complaint"] * 4, ["complaint"] * 4) == 1.0


def test_kappa_textbook_example() -> None:
    # The usual worked example (e.g. Wikipedia "Cohen's kappa"): 50 items, yes/yes 20,
    # yes/no 5, no/yes 10, no/no 15. p_o = 0.7, p_e = 0.5, kappa = 0.4.
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(first, second) == pytest.approx(0.4)


def test_kappa_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="length mismatch"):
        cohen_kappa(["thing"], ["thing", "complaint"])


# --------------------------------------------------------------------------- validation


def test_valid_entries_parse() -> None:
    out = _parse(_entries())
    assert [e.id for e in out] == list(TEST_IDS)
    assert out[2].things == ("43PCN0009",)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"x": {"id": "b99", "label": "complaint"}}, r"b99: unknown id \(not a message"),
        ({"x": {"id": "b3", "label": "complaint"}}, r"b3: unknown id \(a dev-split message"),
        ({"b1": {"id": "b1", "label": "complain"}}, r"(?s)entry b1: .*label"),
        (
            {"w001": {"id": "w001", "label": "thing", "things": ["43PCP9999"]}},
            r"not in the catalogue: \['43PCP9999'\]",
        ),
        ({"w001": {"id": "w001", "label": "thing"}}, "things is empty"),
        ({"b1": {"id": "b1", "label": "complaint", "things": ["43PCP0002"]}}, "things only for 'thing'"),
        ({"b1": {"id": "b1", "label": "complaint", "also": "thing"}}, r"(?s)entry b1: .*[Ee]xtra"),
        ({"b2": None}, r"missing 1 test id\(s\): b2"),
    ],
)
def test_validation_errors_are_clear(overrides: dict, message: str) -> None:
    with pytest.raises(AgreementDataError, match=message):
        _parse(_entries(**overrides))


def test_duplicate_id_is_rejected() -> None:
    items = [*_entries(), {"id": "b1", "label": "suggestion"}]
    with pytest.raises(AgreementDataError, match="b1: duplicate id"):
        _parse(items)


def test_file_without_entries_list_is_rejected(tmp_path: Path, first: list[RealMessage]) -> None:
    path = tmp_path / "second.yml"
    path.write_text("messages: []\n", encoding="utf-8")
    with pytest.raises(AgreementDataError, match="top-level 'entries' list"):
        load_second_pass(path, first)


def test_missing_test_ids_in_a_file(tmp_path: Path, first: list[RealMessage]) -> None:
    one = next(m for m in first if m.split == "test")
    path = tmp_path / "second.yml"
    path.write_text(
        yaml.safe_dump({"entries": [{"id": one.id, "label": one.label, "things": list(one.things)}]})
    )
    with pytest.raises(AgreementDataError, match=r"missing \d+ test id\(s\)"):
        load_second_pass(path, first)


# --------------------------------------------------------------------------- the shipped file


def test_shipped_second_pass_covers_exactly_the_test_split(first: list[RealMessage]) -> None:
    second = load_second_pass(SECOND_PASS_PATH, first)
    test_ids = [m.id for m in first if m.split == "test"]
    assert sorted(e.id for e in second) == sorted(test_ids)
    assert len(second) == len(test_ids) == 261
    codes = catalogue_codes()
    assert all(c in codes for e in second for c in e.things)


def test_shipped_second_pass_compares(first: list[RealMessage]) -> None:
    report = compare(first, load_second_pass(SECOND_PASS_PATH, first))
    assert report.n == 261
    assert sum(sum(row.values()) for row in report.confusion.values()) == report.n
    assert sum(report.confusion[x][x] for x in LABELS) == report.agreed
    assert len(report.disagreements) == report.n - report.agreed
    assert -1.0 <= report.kappa <= 1.0
    assert report.both_thing_overlap <= report.both_thing


def test_compare_per_message_fields() -> None:
    def msg(ident: str, label: str, things: tuple[str, ...] = (), also: str | None = None) -> RealMessage:
        return RealMessage(
            id=ident,
            source="written",
            split="test",
            label=label,
            things=things,
            also=also,
            domain_words=False,
            text="x",
        )

    first = [
        msg("w001", "thing", ("43PCN0009", "43PCP0002")),
        msg("w002", "complaint", ("43PCP0002",), also="thing"),
        msg("w003", "question"),
    ]
    second = _parse_for(
        ["w001", "w002", "w003"],
        [
            {"id": "w001", "label": "thing", "things": ["43PCP0002"]},
            {"id": "w002", "label": "thing", "things": ["43PCP0002"]},
            {"id": "w003", "label": "question"},
        ],
    )
    report = compare(first, second)
    assert report.agreed == 2 and report.agreed_with_also == 3
    assert report.confusion["complaint"]["thing"] == 1
    assert [c.things_overlap for c in report.comparisons] == [True, True, None]
    assert report.both_thing == 1 and report.both_thing_same_primary == 0 and report.both_thing_same_set == 0


def _parse_for(ids: list[str], items: list[dict]) -> list[agreement.SecondLabel]:
    return parse_second_pass(items, ids, CODES)


def test_cli_prints_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert agreement.main([]) == 0
    out = capsys.readouterr().out
    assert "Cohen's kappa" in out and "first \\ second" in out and "disagreements" in out


def test_cli_reports_an_invalid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "second.yml"
    path.write_text("entries:\n  - {id: b99999999, label: complaint}\n", encoding="utf-8")
    assert agreement.main(["--path", str(path)]) == 1
    assert "unknown id" in capsys.readouterr().err
