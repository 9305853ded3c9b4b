"""action_find_thing against a fake knowledge service: sure / ambiguous / none / choose / errors."""

from __future__ import annotations

import json

from actions_fakes import FakeAnswer, FakeHit, FakeResolution, slot_events
from feedback_helpers import use_redis

from actions.find_thing import ActionFindThing, ActionTakeCandidate, choose_payload, offered_codes
from records import case_store


async def test_sure_answers_the_whole_guide_and_remembers_it(fake_service, dispatcher, make_tracker):
    text = "我堂客生了个伢子，要办么子"
    fake_service.answers[text] = FakeAnswer("sure", [fake_service.hit("43PCN0009")])

    events = await ActionFindThing().run(dispatcher, make_tracker(text), {})

    assert ("resolve", text) in fake_service.calls
    assert slot_events(events) == {"current_thing": "43PCN0009", "match_verdict": "sure"}
    [message] = dispatcher.messages
    body = message["text"]
    assert body.startswith("您要办的是：新生儿出生一件事")
    # always-needed materials come before the conditional ones, which carry their case
    assert body.index("父母身份证") < body.index("看情况才要的材料") < body.index("新生儿民族成份申请")
    assert "新生儿民族成份申请（父母双方是不同民族时提供）" in body
    assert body.count("父母身份证") == 1
    assert "银行卡（看具体情况，以窗口告知为准）" in body
    for fact in ("承诺5个工作日（以官网为准）", "不收费", "邵阳县卫生健康局", "0739-6810891", "湘易办APP"):
        assert fact in body
    assert "提醒" not in body  # the county's own guide: no caveat
    assert "\n\n" not in body  # Rasa's REST channel would split it into several messages


async def test_long_conditions_are_cut_short(fake_service, dispatcher, make_tracker):
    fake_service.answers["x"] = FakeAnswer("sure", [fake_service.hit("43PCN0009")])
    await ActionFindThing().run(dispatcher, make_tracker("x"), {})
    line = next(ln for ln in dispatcher.messages[0]["text"].splitlines() if "母亲授权委托书" in ln)
    assert line.endswith("…）")
    assert len(line) < 60


async def test_guide_from_another_region_carries_its_caveat(fake_service, dispatcher, make_tracker):
    fake_service.answers["我伢子要出国读书"] = FakeAnswer("sure", [fake_service.hit("43PCP0004")])

    await ActionFindThing().run(dispatcher, make_tracker("我伢子要出国读书"), {})

    body = dispatcher.messages[0]["text"]
    assert "提醒：以下为邵阳市的办事指南，县内办理请先电话确认" in body
    assert body.index("提醒") < body.index("要准备的材料")
    assert "收费：认证费（360元/份）" in body and "收费：收费" not in body
    assert "网上办理" not in body  # official status 无: no online channel claimed


async def test_ambiguous_asks_with_one_button_per_candidate(fake_service, dispatcher, make_tracker):
    text = "伢子的事"
    fake_service.answers[text] = FakeAnswer(
        "ambiguous", [fake_service.hit("43PCN0009", 0.5), fake_service.hit("43PCP0004", 0.4)]
    )

    events = await ActionFindThing().run(dispatcher, make_tracker(text), {})

    assert slot_events(events) == {"match_verdict": "ambiguous"}
    [message] = dispatcher.messages
    assert "哪一件事" in message["text"]
    assert "1. 新生儿出生一件事" in message["text"] and "2. 留学服务“一件事”" in message["text"]
    buttons = message["buttons"]
    assert [b["title"] for b in buttons] == ["新生儿出生一件事", "留学服务“一件事”", "都不是"]
    intent, _, payload = buttons[0]["payload"].partition("{")
    assert intent == "/choose_thing"
    assert json.loads("{" + payload) == {"thing_code": "43PCN0009"}
    assert buttons[-1]["payload"] == "/deny"


async def test_ambiguous_offers_at_most_three(fake_service, dispatcher, make_tracker, themes):
    hits = [fake_service.hit(code, 0.3) for code in themes]  # four candidates
    fake_service.answers["办事"] = FakeAnswer("ambiguous", hits)
    await ActionFindThing().run(dispatcher, make_tracker("办事"), {})
    assert len(dispatcher.messages[0]["buttons"]) == 3 + 1


async def test_none_says_not_sure_and_offers_staff_and_hotline(fake_service, dispatcher, make_tracker):
    events = await ActionFindThing().run(dispatcher, make_tracker("我要办一件事"), {})

    assert slot_events(events) == {"match_verdict": "no_match"}
    [message] = dispatcher.messages
    assert "不太确定" in message["text"]
    assert "0739-12345" in message["text"]
    assert "转人工" in message["text"]
    assert {b["payload"] for b in message["buttons"]} == {"/ask_human", "/deny"}


async def test_sure_with_an_unknown_code_is_treated_as_none(fake_service, dispatcher, make_tracker):
    fake_service.answers["x"] = FakeAnswer("sure", [FakeHit(code="NOPE", title="?", score=0.99)])
    events = await ActionFindThing().run(dispatcher, make_tracker("x"), {})
    assert slot_events(events) == {"match_verdict": "no_match"}


async def test_chosen_button_answers_that_code_without_matching(fake_service, dispatcher, make_tracker):
    tracker = make_tracker(
        '/choose_thing{"thing_code":"43PCP0004"}',
        intent="choose_thing",
        entities=[{"entity": "thing_code", "value": "43PCP0004"}],
    )

    events = await ActionFindThing().run(dispatcher, tracker, {})

    assert not [c for c in fake_service.calls if c[0] == "resolve"]
    assert slot_events(events)["current_thing"] == "43PCP0004"
    assert dispatcher.messages[0]["text"].startswith("您要办的是：留学服务“一件事”")


async def test_unknown_chosen_code_from_a_payload_is_not_matched_as_text(
    fake_service, dispatcher, make_tracker
):
    tracker = make_tracker(
        '/choose_thing{"thing_code":"43XXX9999"}',
        intent="choose_thing",
        entities=[{"entity": "thing_code", "value": "43XXX9999"}],
    )
    events = await ActionFindThing().run(dispatcher, tracker, {})
    assert not [c for c in fake_service.calls if c[0] == "resolve"]
    assert slot_events(events) == {"match_verdict": "no_match"}


async def test_names_only_theme_never_invents_materials(fake_service, dispatcher, make_tracker):
    fake_service.answers["新车上牌"] = FakeAnswer("sure", [fake_service.hit("43PCP0014")])
    await ActionFindThing().run(dispatcher, make_tracker("新车上牌"), {})
    body = dispatcher.messages[0]["text"]
    assert "没有邵阳县的办事指南" in body
    assert "还没有公开的材料清单" in body
    assert "要准备的材料" not in body
    assert "0739-12345" in body  # no consult phone of its own: the hotline instead


async def test_service_failure_gives_a_polite_answer(fake_service, dispatcher, make_tracker):
    fake_service.fail = True
    events = await ActionFindThing().run(dispatcher, make_tracker("我要办退休"), {})
    assert slot_events(events) == {"match_verdict": "no_match"}
    assert "0739-12345" in dispatcher.messages[0]["text"]


async def test_an_official_name_is_answered_without_a_search(fake_service, dispatcher, make_tracker):
    thing = [{"entity": "thing", "value": "43PCN0009"}]
    events = await ActionFindThing().run(dispatcher, make_tracker("我要办新生儿出生一件事", entities=thing), {})
    assert not [c for c in fake_service.calls if c[0] == "resolve"]
    assert slot_events(events)["current_thing"] == "43PCN0009"
    assert dispatcher.messages[0]["text"].startswith("您要办的是：新生儿出生一件事")


async def test_two_official_names_are_left_to_the_search(fake_service, dispatcher, make_tracker):
    text = "新车上牌和二手房转移登记"
    fake_service.answers[text] = FakeAnswer("none", [])
    things = [{"entity": "thing", "value": "43PCN0009"}, {"entity": "thing", "value": "43PCP0004"}]
    await ActionFindThing().run(dispatcher, make_tracker(text, entities=things), {})
    assert ("resolve", text) in fake_service.calls


async def test_a_guess_is_asked_not_refused(fake_service, dispatcher, make_tracker):
    # Since issue #13 the guess is decided by knowledge.resolve; the action renders it.
    text = "老倌子走了，要办么子手续"
    fake_service.resolutions[text] = FakeResolution("guess", [fake_service.hit("43PCN0009", 0.32)])
    events = await ActionFindThing().run(dispatcher, make_tracker(text), {})
    assert slot_events(events) == {"match_verdict": "ambiguous"}  # the candidate rules apply
    [message] = dispatcher.messages
    assert message["text"].startswith("您是想办【新生儿出生一件事】吗？")
    assert [b["title"] for b in message["buttons"]] == ["新生儿出生一件事", "都不是"]


async def test_a_two_way_guess_offers_both(fake_service, dispatcher, make_tracker):
    text = "伢子的事"
    fake_service.resolutions[text] = FakeResolution(
        "guess", [fake_service.hit("43PCN0009", 0.4), fake_service.hit("43PCP0004", 0.3)]
    )
    await ActionFindThing().run(dispatcher, make_tracker(text), {})
    [message] = dispatcher.messages
    assert message["text"].startswith("您是想办下面哪一件吗？")
    assert "1. 新生儿出生一件事" in message["text"] and "2. 留学服务“一件事”" in message["text"]
    assert [b["title"] for b in message["buttons"]] == ["新生儿出生一件事", "留学服务“一件事”", "都不是"]


async def test_none_is_still_not_sure(fake_service, dispatcher, make_tracker):
    fake_service.resolutions["明天会下雨吗"] = FakeResolution("none", [])
    events = await ActionFindThing().run(dispatcher, make_tracker("明天会下雨吗"), {})
    assert slot_events(events) == {"match_verdict": "no_match"}
    assert "不太确定" in dispatcher.messages[0]["text"]


async def test_two_things_answer_the_first_and_note_the_second(fake_service, dispatcher, make_tracker):
    text = "上户口，还要出国留学"
    fake_service.resolutions[text] = FakeResolution(
        "two_things", [fake_service.hit("43PCN0009"), fake_service.hit("43PCP0004")]
    )
    events = await ActionFindThing().run(dispatcher, make_tracker(text), {})
    slots = slot_events(events)
    assert slots["current_thing"] == "43PCN0009" and slots["previous_thing"] == "43PCP0004"
    first, second = dispatcher.messages
    assert first["text"].startswith("您要办的是：新生儿出生一件事")
    assert "留学服务“一件事”" in second["text"] and second["buttons"][0]["payload"] == choose_payload("43PCP0004")


async def test_a_complaint_is_told_honestly_with_the_hotline_and_a_human(
    fake_service, dispatcher, make_tracker, redis_url, redis_client, monkeypatch
):
    use_redis(monkeypatch, redis_url)
    text = "小区物业乱收停车费"
    fake_service.resolutions[text] = FakeResolution("not_a_thing", kind="complaint", department="住房和城乡建设局")
    events = await ActionFindThing().run(dispatcher, make_tracker(text), {})
    assert slot_events(events) == {"match_verdict": "no_match"}  # 要得 -> the handoff question
    [message] = dispatcher.messages
    [case_id] = case_store.case_ids(redis_client)  # recorded, as a short complaint is
    assert case_store.get_case(redis_client, case_id).text == text
    assert f"编号 {case_id}" in message["text"]
    assert "没办法直接处理" in message["text"] and "0739-12345" in message["text"]
    assert "住房和城乡建设局" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/ask_human", "/deny"]
    assert "/report_bancheng" not in str(message["buttons"])


async def test_a_consumer_dispute_points_to_12315(fake_service, dispatcher, make_tracker, redis_url, monkeypatch):
    use_redis(monkeypatch, redis_url)
    text = "培训机构不退费"
    fake_service.resolutions[text] = FakeResolution("not_a_thing", kind="consumer")
    await ActionFindThing().run(dispatcher, make_tracker(text), {})
    assert "12315" in dispatcher.messages[0]["text"] and "0739-12345" in dispatcher.messages[0]["text"]


async def test_a_suggestion_is_thanked(fake_service, dispatcher, make_tracker):
    text = "建议火车进站不要鸣笛"
    fake_service.resolutions[text] = FakeResolution("not_a_thing", kind="suggestion")
    await ActionFindThing().run(dispatcher, make_tracker(text), {})
    body = dispatcher.messages[0]["text"]
    assert body.startswith("谢谢您的建议") and "0739-12345" in body


async def test_a_policy_question_names_the_department(fake_service, dispatcher, make_tracker):
    text = "我想问一下某某村有没有拆迁改造计划"
    fake_service.resolutions[text] = FakeResolution("not_a_thing", kind="question", department="自然资源局或征收部门")
    await ActionFindThing().run(dispatcher, make_tracker(text), {})
    body = dispatcher.messages[0]["text"]
    assert "自然资源局或征收部门" in body and "0739-12345" in body and "转人工" in body


async def test_bancheng_is_only_offered_as_a_button(fake_service, dispatcher, make_tracker):
    text = "我去办社保卡跑了好几趟都没办成"
    fake_service.resolutions[text] = FakeResolution("not_a_thing", kind="bancheng_candidate")
    events = await ActionFindThing().run(dispatcher, make_tracker(text), {})
    assert not [e for e in events if e.get("event") in ("followup", "active_loop")]  # no form opened
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert payloads == ["/report_bancheng", "/ask_human", "/deny"]


async def test_chitchat_gets_a_friendly_word(fake_service, dispatcher, make_tracker):
    fake_service.resolutions["哈哈好玩"] = FakeResolution("not_a_thing", kind="chitchat")
    await ActionFindThing().run(dispatcher, make_tracker("哈哈好玩"), {})
    assert "导办助手" in dispatcher.messages[0]["text"]


async def test_the_town_is_left_out_of_the_search(fake_service, dispatcher, make_tracker):
    text = "我是五峰铺的，要办退休"
    fake_service.answers["我是的，要办退休"] = FakeAnswer("sure", [fake_service.hit("43PCN0009")])
    town = [{"entity": "town", "value": "五峰铺镇", "start": 2, "end": 5}]
    events = await ActionFindThing().run(dispatcher, make_tracker(text, entities=town), {})
    assert ("resolve", "我是的，要办退休") in fake_service.calls
    assert slot_events(events)["match_verdict"] == "sure"


def _after_candidates(make_tracker, buttons: list[dict[str, str]], reply: str = "是的"):
    """A tracker where the assistant offered ``buttons`` and the person then said ``reply``."""
    tracker = make_tracker(reply, intent="affirm")
    latest = tracker.events[-1]
    tracker.events[:] = [
        {"event": "user", "text": "earlier", "parse_data": {}},
        {"event": "bot", "text": "您是想办…吗？", "data": {"buttons": buttons}},
        {"event": "action", "name": "action_listen"},
        latest,
        {"event": "user_featurization"},
    ]
    return tracker


async def test_yes_to_a_single_candidate_takes_it(fake_service, dispatcher, make_tracker):
    buttons = [{"title": "留学服务", "payload": choose_payload("43PCP0004")}, {"title": "都不是", "payload": "/deny"}]
    events = await ActionTakeCandidate().run(dispatcher, _after_candidates(make_tracker, buttons), {})
    assert slot_events(events) == {"current_thing": "43PCP0004", "match_verdict": "sure"}
    assert dispatcher.messages[0]["text"].startswith("您要办的是：留学服务“一件事”")


async def test_yes_to_several_candidates_asks_which(fake_service, dispatcher, make_tracker):
    buttons = [
        {"title": "a", "payload": choose_payload("43PCN0009")},
        {"title": "b", "payload": choose_payload("43PCP0004")},
        {"title": "都不是", "payload": "/deny"},
    ]
    events = await ActionTakeCandidate().run(dispatcher, _after_candidates(make_tracker, buttons), {})
    assert slot_events(events) == {"match_verdict": "ambiguous"}  # the candidate rules go on
    [message] = dispatcher.messages
    assert message["text"].startswith("好的，是哪一件呢？") and message["buttons"] == buttons


async def test_yes_without_candidates_before_it_asks_which(fake_service, dispatcher, make_tracker):
    tracker = _after_candidates(make_tracker, [])
    tracker.events.insert(2, {"event": "user", "text": "x"})  # an older offer does not count
    tracker.events.insert(0, {"event": "bot", "data": {"buttons": [{"payload": choose_payload("43PCP0004")}]}})
    events = await ActionTakeCandidate().run(dispatcher, tracker, {})
    assert events == [] and dispatcher.messages[0]["response"] == "utter_ask_what_matter"
    assert offered_codes(tracker) == []
