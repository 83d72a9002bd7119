"""Which instrument a title is about, so the versions of one instrument can be linked: a draft for comment
and its final text, a second draft, an amendment — across columns and agencies (MOJ publishes the State
Council's drafts; the NPC's drafts and laws sit in different databases).

The key is the instrument's name — in 《》 where the title quotes one, else the title without its frame
(关于印发…的通知) — with draft and edition markers removed and 中华人民共和国 dropped, so
《网络数据安全管理条例（征求意见稿）》 and 网络数据安全管理条例 have one key. Only a name that ends in an
instrument form (法, 条例, 办法, 规定 …) is a key: "工作会议" is no instrument and links nothing.
"""

from __future__ import annotations

import re

_QUOTED = re.compile(r"《([^《》]{2,80})》")
# Draft and edition markers, in brackets or at the end: （征求意见稿） （草案） （修订草案征求意见稿） （2024年修订）
_MARKERS = re.compile(
    r"[（(](?:[^（）()]{0,12}(?:征求意见稿|意见稿|草案|送审稿|建议稿|讨论稿|修订稿|修订版|修订|修正)[^（）()]{0,6}"
    r"|\d{4}年?(?:版|修订|修正))[）)]")
_TRAILING = re.compile(r"(?:修正草案|修订草案|草案|征求意见稿)(?:[（(][^）)]*[）)])?$")
_AMENDED = re.compile(r"^关于修改|修正案|修订|修正")
# What may stand around a quoted name for the title to be about that instrument: an issuer and 关于 with a
# verb of publishing before it; a consultation, a publishing frame or an amendment marker after it.
_PREFIX = re.compile(r"(?:.{0,40}?关于)?(?:公开)?(?:征求|印发|发布|公布|修改|修订|废止)?")
_SUFFIX = re.compile(r"(?:(?:再次|第二次|第三次)?(?:向社会)?(?:公开)?征求(?:社会各界|社会|公众)?(?:意见|建议)"
                     r"(?:的(?:通知|公告|函))?|的(?:通知|公告|决定|通告|令)|(?:修正案|修订案)?(?:[（(](?:草案|征求意见稿)[）)])?"
                     r"|全文|正式发布|发布|公布|施行|出台)")
_FORMS = ("法", "条例", "规定", "办法", "细则", "规则", "指引", "指南", "标准", "规范", "目录", "清单", "要求",
          "解释", "决定", "意见", "方案", "制度", "准则", "指标")
_ANY_FORM = re.compile("|".join(_FORMS))
_CONSULTATION = re.compile(r"^(?:.{0,30}?关于)?(?:公开)?征求(?P<x>.+?)(?:意见|建议)的(?:通知|公告)$")
_PUBLICATION = re.compile(r"^(?:.{0,30}?关于)?(?:印发|发布|公布)(?P<x>.+?)的(?:通知|公告)$")
_QUALIFIER = re.compile(r"（[^（）]*）$")
_COUNTRY = "中华人民共和国"


def _clean(name: str) -> str:
    name = "".join(name.split()).replace("(", "（").replace(")", "）")  # (str.split's white space is \s's)
    if "（" not in name and not name.endswith(("草案", "征求意见稿")):
        return name  # no marker can match (most names)
    previous = None
    while previous != name:  # markers can stack: 《X（修订草案）（征求意见稿）》
        previous = name
        name = _MARKERS.sub("", name)
        name = _TRAILING.sub("", name)
    return name


def instrument_key(title: str) -> str | None:
    """The normalised name of the instrument a title publishes, drafts or amends; None when it names none.

    A quoted name is the key only when the title is about that instrument itself (关于印发《X》的通知,
    《X（征求意见稿）》公开征求意见); a title that implements, applies or reports on it (山东省实施《X》办法,
    关于适用《X》若干问题的解释, 日本《X》修订案) is an instrument of its own, keyed by its whole name.
    """
    if "《" not in title and not _ANY_FORM.search(title):
        return None  # most titles: no quoted name and no instrument form anywhere
    title = "".join(title.split())
    quoted = _QUOTED.search(title)
    if quoted and _PREFIX.fullmatch(title[:quoted.start()]) and _SUFFIX.fullmatch(title[quoted.end():]):
        name = _clean(quoted.group(1))
    else:
        bare = title.replace("《", "").replace("》", "")
        if bare.endswith(("的通知", "的公告")):  # (what both frames end with)
            bare = _CONSULTATION.sub(r"\g<x>", bare)
            bare = _PUBLICATION.sub(r"\g<x>", bare)
        name = _clean(bare)
    name = name.replace(_COUNTRY, "")
    form = _QUALIFIER.sub("", name) if name.endswith("）") else name  # 《X办法（试行）》 is still a 办法
    if len(form) < 4 or not form.endswith(_FORMS) or len(name) > 80:
        return None
    return name


def is_amendment(title: str) -> bool:
    """A title that amends an instrument (关于修改《X》的决定, X修正案（草案）, 《X（2025年修订）》)."""
    return bool(_AMENDED.search(title))


def relation(earlier_status: str | None, later_status: str | None, later_title: str) -> str:
    """How a later version stands to an earlier one: final (of a draft), redraft, amendment, draft-amendment."""
    later_draft, earlier_draft = later_status == "draft", earlier_status == "draft"
    if earlier_draft and not later_draft:
        return "final"
    if earlier_draft and later_draft:
        return "redraft"
    return "draft-amendment" if later_draft else "amendment"
