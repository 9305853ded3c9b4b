"""User-facing texts (Simplified Chinese: short, warm, plain; read by elderly citizens too).

Kept in one place so channels (REST, kiosk, Telegram) say the same thing.
"""

from __future__ import annotations

HELPLINE = "0739-12345"

# Chat replies made by the gateway itself (not by Rasa).
RASA_UNAVAILABLE = f"抱歉，系统暂时有点忙，请稍后再试，或拨打 {HELPLINE}。"
ACTION_SERVER_UNAVAILABLE = f"抱歉，事项查询暂时出了点问题，请稍后再试，或拨打 {HELPLINE}。"

# Field names as a citizen (or the developer of a channel) would read them.
FIELD_LABELS: dict[str, str] = {
    "sender": "用户标识（sender）",
    "message": "消息（message）",
    "q": "查询内容（q）",
    "k": "结果条数（k）",
    "code": "事项编号（code）",
}


def _label(field: str | None) -> str:
    if field is None:
        return "请求内容"
    return FIELD_LABELS.get(field, field)


def message_too_long(limit: int) -> str:
    """Over CHAT_MAX_CHARS (4,000 by default): not a bare refusal, a way on."""
    return (
        f"您写得很详细，不过一次最多只能看{limit}个字。"
        "请用一两句话告诉我最想办的事，比如“孩子出生了要上户口”；"
        "也可以说“转人工”找工作人员，或打 12345 政务服务便民热线。"
    )


def body_too_large(limit_bytes: int) -> str:
    return f"发送的内容太多了，请不超过{limit_bytes // 1024}KB。"


def query_too_long(limit: int) -> str:
    return f"查询内容太长了，请不超过{limit}个字。"


def sender_too_long(limit: int) -> str:
    return f"用户标识（sender）太长了，请不超过{limit}个字符。"


def missing_field(field: str) -> str:
    return f"缺少{_label(field)}，请补上后再发送。"


def wrong_type(field: str | None, expected: str) -> str:
    return f"{_label(field)}的格式不对，应该是{expected}。"


def empty_field(field: str) -> str:
    if field == "message":
        return "请输入您想问的话。"
    if field == "q":
        return "请输入要查询的事项。"
    return f"{_label(field)}不能为空。"


def invalid_characters(field: str) -> str:
    return f"{_label(field)}里有不能使用的字符。"


def out_of_range(field: str, low: int, high: int) -> str:
    return f"{_label(field)}应在{low}到{high}之间。"


# Fair use (bot/fairuse.py) and the HTTP server's own refusals (bot/server.py).
TOO_MANY_MESSAGES = "您发得有点快，请歇一会儿再发，我们会接着为您服务。"
CONVERSATION_BUSY = "上一条消息还在处理，请稍等几秒，再发这一条。"
SERVER_BUSY = f"现在找小助手的人比较多，请稍等一会儿再试，或拨打 {HELPLINE}。"
REQUEST_TIMEOUT = "发送超时了，请检查网络后重新发送。"
CLIENT_GONE = "连接已断开，请重新发送。"
BAD_HTTP_REQUEST = "请求的格式不对，请检查后再试。"
HEADERS_TOO_LARGE = "请求头太大了，请检查后再试。"

INVALID_JSON = "发送的内容不是有效的 JSON，请检查后再试。"
EMPTY_BODY = '没有收到内容，请发送 JSON，例如 {"sender": "…", "message": "…"}。'
NOT_AN_OBJECT = '发送的内容格式不对，应该是一个 JSON 对象，例如 {"sender": "…", "message": "…"}。'
UNSUPPORTED_MEDIA_TYPE = "请用 JSON 格式发送（Content-Type: application/json）。"
INVALID_REQUEST = "请求的格式不对，请检查后再试。"
NOT_FOUND = "没有找到您要的内容。"
METHOD_NOT_ALLOWED = "不支持这种请求方式。"
INTERNAL_ERROR = f"抱歉，系统出了点问题，请稍后再试，或拨打 {HELPLINE}。"
THINGS_UNAVAILABLE = f"抱歉，事项查询暂时用不了，请稍后再试，或拨打 {HELPLINE}。"
THINGS_LOADING = "事项资料正在加载，请稍等几秒再试。"


def thing_not_found(code: str) -> str:
    return f"没有找到编号为“{code}”的事项，请检查编号是否正确。"

# Human handoff (bot/handoff/router.py; docs/handoff.md).
HANDOFF_PICKED_UP = "工作人员正在处理您的事，请稍等，他们会在这里回复您。想回到机器人，说“回到机器人”。"
HANDOFF_BOT_BACK = "好的，小助手回来了，您接着问我就行。"
HANDOFF_TIMEOUT = (
    f"抱歉，现在工作人员都在忙，没能接上您的事。小助手先回来帮您，急事请打 {HELPLINE}，"
    "以后也可以预约工作人员。"
)
HANDOFF_RESUME_PENDING = "（系统暂时有点忙，如果我没回答，请稍后再发一次。）"
HANDOFF_BACK_TO_BOT = "想回到机器人，说“回到机器人”。"


def queue_place(ahead: int, wait_seconds: int) -> str:
    """The person's place in the staff queue and the estimated wait (router replies, inbox)."""
    minutes = max(1, -(-wait_seconds // 60))
    if ahead <= 0:
        return f"下一位就是您，大约等 {minutes} 分钟。"
    return f"您前面还有 {ahead} 位，大约等 {minutes} 分钟。"


def handoff_waiting(place: str | None) -> str:
    """While a ticket waits: the reply to each message (with the place in the queue when known)."""
    text = "已转给工作人员，请稍等，工作人员会在这里回复您。您刚才说的话也转给他们了。"
    return text + (place or "") + HANDOFF_BACK_TO_BOT


def handback_case_filed(case_id: str) -> str:
    """A ticket closed as 无法办理: the 办不成事 case filed for the person."""
    return (
        f"工作人员确认这件事现在办不成，已经帮您登记到“办不成事”反映窗口（编号 {case_id}），"
        f"会有工作人员跟进。需要时可以打 {HELPLINE}，报这个编号。"
    )


INBOX_BAD_AFTER = "after 的格式不对，应该是上次收到的最后一条消息的 id（例如 1700000000000-0）。"
INBOX_BAD_WAIT = "wait 应该是 0 到 25 之间的整数（秒）。"

# Staff console and staff API (bot/staff/).
STAFF_NOT_LOGGED_IN = "请先登录，或登录已过期，请重新登录。"
STAFF_BAD_LOGIN = "用户名或密码不对，请重新输入。"
STAFF_CSRF = "页面已过期或请求不完整，请刷新页面后再试。"
STAFF_CROSS_SITE = "不接受来自其他网站的请求。"
STAFF_BAD_DATE = "日期格式不对，应该像 2026-12-07 这样。"
STAFF_BAD_TICKET_STATUS = "状态只能是 waiting、claimed 或 closed。"
STAFF_BAD_OUTCOME = "请选择办理结果：办结、转线下窗口、已预约或无法办理。"
STAFF_BAD_MARK = "只能标记为已到（attended）或未到（no_show）。"
STAFF_NOT_A_BOOL = "“交回小助手”只能是是或否（true / false）。"


def staff_login_locked(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return f"登录失败次数太多，请{minutes}分钟后再试。"


def staff_text_too_long(limit: int) -> str:
    return f"内容太长了，请不超过{limit}个字。"

# Checklist links (bot/checklist_links.py) and the kiosk page (bot/kiosk/).
CHECKLIST_DEFAULT_TITLE = "办事材料清单"
CHECKLIST_LINK_FOOTER = "材料以窗口和官网最新要求为准。有疑问请打 0739-12345。"
CHECKLIST_LINK_EXPIRED_TITLE = "链接已过期"
CHECKLIST_LINK_EXPIRED = "这个清单链接已经过期或不存在了。请回到大厅的自助机或小助手那里，再生成一份新的清单。"
KIOSK_BAD_SENDER = "这台自助机的会话编号不对，请刷新页面后再试。"
KIOSK_EVENTS_BUSY = "现在连接的人太多了，请稍后再试。"
KIOSK_LEFT_NOTE = "（自助机提示：群众已离开自助机，本次对话已结束，请不要再回复。）"


def checklist_link_until(day: str) -> str:
    return f"这个链接 {day} 以后就打不开了，需要的话请截图保存。"

# Telegram channel (bot/telegram/; docs/telegram.md).
TG_GREETING = (
    "您好！我是邵阳县“一件事”导办小助手。\n"
    "您想办什么事，直接打字告诉我就行，说家常话也可以，比如“我堂客生了个伢子，要上户口”。\n"
    "也可以点下面的按钮："
)
TG_HELP = (
    "怎么用小助手：\n"
    "· 直接打字说您要办的事，我告诉您要带什么材料、去哪里办、要多久。\n"
    "· 点消息下面的按钮，就是替您回答。\n"
    "· /human 找工作人员帮忙\n"
    "· /restart 重新开始\n"
    f"· 急事请打 {HELPLINE}。"
)
TG_RESTARTED = "好的，我们重新开始。您想办什么事，直接告诉我。"
TG_ONLY_TEXT = "抱歉，小助手只看得懂文字。请直接打字告诉我您要办的事；要找工作人员，请发 /human。"
TG_EDITED = "小助手看不到修改过的消息。请把要说的话重新发一条给我。"
TG_PRIVATE_ONLY = "请直接私聊小助手，这样您的事情只有您和工作人员看得到。"
TG_BUTTON_EXPIRED = "这个按钮已经过期了，请直接打字告诉我您要办的事。"
TG_STAFF_PREFIX = "工作人员："
TG_CHECKLIST_CAPTION = "这是您的材料清单，可以保存下来，到窗口时给工作人员看。"
TG_CHECKLIST_LINK = "手机上也可以打开这个链接看清单："
TG_CHOSEN = "收到："
