"""knowledge.resolve: the one decision (issue #13), on the real catalogue and search.

The examples are the issue's own; the last test runs the realistic evaluation on the dev split
(cross-fitted classifier, ~3 min) and checks the issue's targets, so it can really fail.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from knowledge import resolve as rs

ROOT = Path(__file__).resolve().parents[2]

BIRTH = "43PCN0009"
RETIRE = "43PCN0013"
SUBSIDY = "43PCP0022"
NEW_CAR = "43PCP0014"
LISTING = "43TCN0005"  # 企业上市合法合规信息核查一件事
HEAVY_TRANSPORT = "43TC0600100Y"  # 大件运输一件事


@pytest.fixture(scope="module")
def service():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from knowledge.service import get_service

    return get_service()


def shown(res: rs.Resolution) -> list[str]:
    return [t.code for t in res.themes]


def title_code(service, title_part: str) -> str:
    return next(t.code for t in service.themes() if title_part in t.title)


# --------------------------------------------------------------------------- the issue's examples


def test_flooded_car_insurance_complaint_is_not_new_car_plates(service):
    res = service.resolve(
        "我的车停在小区地下车库，上个月暴雨把车全淹了，保险公司一直拖着不赔，4S店也推来推去，这个事哪个管？"
    )
    assert res.verdict is rs.Verdict.not_a_thing
    assert res.kind in (rs.Kind.complaint, rs.Kind.consumer)
    assert NEW_CAR not in shown(res)


def test_property_company_complaint_is_not_a_listing_check(service):
    listing = title_code(service, "企业上市")
    res = service.resolve("我们小区的物业公司乱收费，电梯坏了半个月也不修，业主打电话投诉也没人理")
    assert res.verdict is rs.Verdict.not_a_thing and res.kind is rs.Kind.complaint
    assert res.department == "住房和城乡建设局"
    assert listing not in shown(res)


def test_train_horn_suggestion_is_not_heavy_transport(service):
    heavy = title_code(service, "大件运输")
    res = service.resolve("建议火车经过我们村的时候晚上不要鸣笛，太吵了，老人小孩都睡不着")
    assert res.verdict is rs.Verdict.not_a_thing and res.kind is rs.Kind.suggestion
    assert heavy not in shown(res)


def test_a_plain_policy_question_is_a_question(service):
    res = service.resolve("我想问一下某某村有没有拆迁改造计划")
    assert res.verdict is rs.Verdict.not_a_thing and res.kind is rs.Kind.question
    assert res.department  # 拆迁 -> the department that handles it


def test_naming_the_one_thing_always_works(service):
    res = service.resolve("我堂客前天在县妇幼生了，我当爸爸的去办新生儿出生一件事要带什么")
    assert res.verdict is rs.Verdict.sure and shown(res) == [BIRTH]
    assert res.reason.startswith("named")
    # the core name of 4+ characters, and the bare official title, too
    assert shown(service.resolve("开办餐饮店要哪些证")) == [title_code(service, "开办餐饮店")]
    assert service.resolve("新生儿出生一件事").verdict is rs.Verdict.sure


def test_a_named_thing_told_as_done_is_not_answered_with_its_guide(service):
    # A thanks note that mentions the one thing it was about (a written dev example, w122-like).
    res = service.resolve(
        "上个月我爸走了，我按你们讲的去办了个人身后一件事，真的只跑了一次就把销户、社保、医保的事都交上去了，"
        "工作人员还告诉我们抚恤金大概什么时候到。我们一家人都很感激，特意来讲一声谢谢，希望你们继续保持，"
        "也希望以后农村的老人办事也能这么方便，比如在镇上也能办。"
    )
    assert res.verdict is not rs.Verdict.sure


def test_the_request_inside_a_long_story_is_found(service):
    story = (
        "我是塘渡口的，今年六十岁了。年轻的时候在广东打了二十年工，后来回来在县里一个厂里做事，"
        "厂里一直帮我交社保。屋里老伴身体不好，儿子在长沙。上个月厂里人事讲我到年龄了。"
        "请问我办退休要带么子材料？在哪里办？"
    )
    res = service.resolve(story)
    assert res.verdict is rs.Verdict.sure and shown(res) == [RETIRE]
    assert "退休" in res.focus and "广东" not in res.focus


def test_two_matters_in_one_message(service):
    res = service.resolve("上户口，还要领育儿补贴")
    assert res.verdict is rs.Verdict.two_things
    assert shown(res) == [BIRTH, SUBSIDY]


def test_short_requests_still_get_their_guide(service):
    assert shown(service.resolve("我要办退休")) == [RETIRE]
    assert service.resolve("办退休要带么子材料").verdict is rs.Verdict.sure


def test_each_not_a_thing_kind(service):
    consumer = service.resolve("我在培训机构报了个班，现在不想读了，他们不肯退费")
    assert consumer.kind is rs.Kind.consumer
    bancheng = service.resolve("我去办社保卡跑了好几趟都没办成，窗口推来推去")
    assert bancheng.verdict is rs.Verdict.not_a_thing and bancheng.kind is rs.Kind.bancheng_candidate
    for chat in ("你好", "今天天气怎么样"):
        res = service.resolve(chat)
        assert res.verdict is rs.Verdict.not_a_thing and res.kind is rs.Kind.chitchat and not res.themes


def test_a_not_a_thing_message_can_say_what_it_is_about(service):
    res = service.resolve("窗口不给办，我的残疾证跑了好几趟都没办成，推来推去")
    if res.verdict is rs.Verdict.not_a_thing:
        assert res.about is None or res.about.code == title_code(service, "残疾人")


# --------------------------------------------------------------------------- masks and noise


def test_masks_dates_amounts_and_digit_runs_are_removed():
    text = "A市M8县****小区的**，2019年5月6日花了3000元，电话13907391234，身份证430523199001011234，0000-00000000"
    cleaned = rs.clean(text)
    assert not re.search(r"\d", cleaned)
    assert "*" not in cleaned and "A市" not in cleaned and "M8县" not in cleaned
    assert "小区" in cleaned and "电话" in cleaned


def test_masked_text_drives_no_match(service):
    res = service.resolve("****，**，2020年3月4日，13907391234，0000-00000000")
    assert res.verdict is not rs.Verdict.sure and not shown(res)


def test_long_messages_are_read_up_to_the_limit(service):
    story = "我想讲一下我家的情况。" * 500 + "请问我办退休要带么子材料？"
    assert len(story) > rs.MAX_CHARS
    res = service.resolve(story)  # never refused; the tail beyond the limit is not read
    assert res.verdict in set(rs.Verdict)


def test_sentences_and_focus():
    assert rs.sentences("第一句。第二句！第三句？\n第四句") == ["第一句。", "第二句！", "第三句？", "第四句"]
    story = "我们家住在乡下，屋里有三个人。" * 8 + "请问办退休要带么子？"
    assert rs.focus(story) == "请问办退休要带么子？"


# --------------------------------------------------------------------------- one decision, in one place


def test_thresholds_live_only_in_resolve():
    """actions/ renders; it compares no score with a threshold and names none of the old ones."""
    old_names = (
        "GUESS_CLOSE_RATIO",
        "guess_min",
        "GUESS_MIN",
        "PART_STRONG",
        "PAIR_STRONG",
        "AMBIGUOUS_RATIO",
    )
    for path in sorted((ROOT / "actions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\.score\s*[<>]=?|[<>]=?\s*\w+\.score\b", source), (
            f"{path.name} compares a score"
        )
        for name in old_names:
            assert name not in source, f"{path.name} still has {name}"


def test_pair_of_uses_the_thresholds_of_resolve(service):
    assert rs.pair_of(["上户口", "育儿补贴"], "上户口和育儿补贴", service) == [BIRTH, SUBSIDY]
    assert rs.pair_of(["上户口"], "上户口", service) is None  # one part: never two
    assert rs.pair_of(["a", "b"], "ab", object()) is None  # no search: no pair


def test_the_cues_file_is_validated(tmp_path):
    good = rs.load_cues()
    assert good.ask and good.departments
    bad = tmp_path / "cues.yml"
    bad.write_text(
        rs.CUES_PATH.read_text(encoding="utf-8").replace("  - 踢皮球\n", "  - 踢皮球(\n"), encoding="utf-8"
    )
    with pytest.raises(rs.CuesError):
        rs.load_cues(bad)
    bad.write_text(
        rs.CUES_PATH.read_text(encoding="utf-8").replace("examples:\n  complaint:", "examples:\n  rant:"),
        encoding="utf-8",
    )
    with pytest.raises(rs.CuesError, match="rant"):
        rs.load_cues(bad)


def test_the_classifier_explains_its_vote():
    model = rs.kind_model()
    words = model.explain("建议在我们村修个公共厕所", "suggestion")
    assert words and any("建议" in w or "希望" in w or "议" in w for w in words)


# --------------------------------------------------------------------------- the figures on dev


@pytest.mark.quality
def test_dev_split_meets_the_issue_targets(service):
    from knowledge.eval import real_runner as rr
    from knowledge.eval.real import load_messages

    messages = load_messages(split="dev")
    f = rr.figures(messages, rr.run_resolve(rr.analyses(messages, service, "dev"), service))
    assert f.meets() == {k: True for k in rr.TARGETS}, rr.format_figures("dev", f)


# The CI gate on the untouched test split: a little under the figures measured when the thresholds
# were fixed on dev (2026-12-06: a 0.4 %, b 94.0 %, c 97.3 %, d 0.0 %), so the gain is kept. Never
# tune on these messages; a change that trips the gate is looked at on dev.
TEST_GATE = {"a_confident_wrong": 0.01, "b_complaint_suggestion": 0.92, "c_thing_top3": 0.96, "d_bancheng_wrong": 0.005}


@pytest.mark.quality
def test_test_split_gate(service):
    from knowledge.eval import real_runner as rr
    from knowledge.eval.real import load_messages

    messages = load_messages(split="test")
    f = rr.figures(messages, rr.run_resolve(rr.analyses(messages, service, "test"), service))
    report = rr.format_figures("test", f)
    assert f.a_confident_wrong <= TEST_GATE["a_confident_wrong"], report
    assert f.b_complaint_suggestion >= TEST_GATE["b_complaint_suggestion"], report
    assert f.c_thing_top3 >= TEST_GATE["c_thing_top3"], report
    assert f.d_bancheng_wrong <= TEST_GATE["d_bancheng_wrong"], report


def test_a_first_short_line_is_read_as_the_subject_line(service):
    from knowledge.resolve import resolve, split_title

    body = "您好，本人为A市公积金存缴用户，因更换工作，新老公司交接导致6月份公积金无法续交，于7月份补缴一个月公积金流水，请问该如何办理相关资料。"
    head = "期待解决换工作导致公积金断缴不能贷款的问题"
    assert split_title(f"{head}\n{body}") == (head, body)
    assert split_title("生了孩子\n要上户口") == (None, "生了孩子\n要上户口")  # a short body: no subject line
    assert split_title(body) == (None, body)
    as_chat = resolve(f"{head}\n{body}", service)
    as_board = resolve(body, service, title=head)
    assert (as_chat.verdict, [t.code for t in as_chat.themes]) == (as_board.verdict, [t.code for t in as_board.themes])
