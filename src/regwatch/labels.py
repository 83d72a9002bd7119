"""The bilingual vocabulary: the words alerts and digests show, in Chinese, English or both (a
subscription's `language`), in one place so an alert and a digest call a thing by one name."""

from __future__ import annotations

AGENCIES = {
    "CAC": ("国家网信办", "CAC"),
    "MIIT": ("工业和信息化部", "MIIT"),
    "PBC": ("中国人民银行", "PBC"),
    "SAMR": ("市场监管总局", "SAMR"),
}
CATEGORIES = {
    "Legislation": ("立法动态", "Legislation"),
    "Law Enforcement": ("执法动态", "Law Enforcement"),
    "Court Rulings": ("司法案例", "Court Rulings"),
    "News Reports": ("新闻资讯", "News Reports"),
    "Foreign Trends": ("域外动态", "Foreign Trends"),
}
TAGS = {
    "personal-information": "个人信息", "data-security": "数据安全", "cybersecurity": "网络安全",
    "critical-information-infrastructure": "关键信息基础设施", "apps": "App", "cryptography": "密码",
    "facial-recognition": "人脸识别", "blockchain": "区块链", "financial-consumer-protection": "金融消费者保护",
    "payments": "支付", "telecom": "电信", "algorithms": "算法", "ai": "人工智能", "minors": "未成年人",
    "cross-border-data": "数据跨境", "online-content": "网络内容", "e-commerce": "电子商务", "antitrust": "反垄断",
    "product-safety": "产品安全", "food-safety": "食品安全",
}
FIELDS = {
    "title_en": ("英文", "English"),
    "agency": ("发布机关", "Agency"),
    "category": ("类别", "Category"),
    "tags": ("主题", "Topics"),
    "published": ("发布日期", "Published"),
    "doc_number": ("文号", "Doc. No."),
    "deadline": ("意见截止", "Comments due"),
    "open": ("查看原文", "Open"),
    "new": ("新通知", "New notice"),
    "edited": ("通知已更新", "Notice updated"),
    "final": ("正式版本发布", "Final version published"),
    "reminder": ("提醒", "Reminder"),
    "withdrawn": ("可能已撤回", "Possibly withdrawn"),
    "changes": ("改动", "What changed"),
    "follows": ("前一版本", "Earlier version"),
    "attachments": ("附件", "Attachments"),
    "batch": ("条新通知", "new notices"),
    "more": ("更多", "more"),
    "and_more": ("另有 {n} 条", "{n} more"),
    "sample": ("测试消息", "Test message"),
    "review": ("类别待核对", "category to check"),
    "ops": ("regwatch 运行提示", "regwatch operations"),
}


def pick(pair: tuple[str, str], language: str) -> str:
    zh, en = pair
    if language == "zh":
        return zh
    if language == "en":
        return en
    return zh if zh == en else f"{zh} / {en}"


def label(key: str, language: str) -> str:
    return pick(FIELDS[key], language)


def agency(code: str, language: str) -> str:
    return pick(AGENCIES.get(code, (code, code)), language)


def category(name: str | None, language: str) -> str:
    return pick(CATEGORIES.get(name or "", (name or "", name or "")), language)


def tag(name: str, language: str) -> str:
    return pick((TAGS.get(name, name), name), language)


def version_note(relation: str, published: str | None, deadline: str | None, changes: str, changes_zh: str,
                 language: str) -> str:
    """What a notice is to the earlier version it follows: "final version of the draft published on …,
    comments closed …: 12 articles changed, 3 added" (and the Chinese), for alerts and digests."""
    day, closed = published or "?", f", comments closed {deadline}" if deadline else ""
    en = {"final": f"final version of the draft published on {day}{closed}",
          "redraft": f"a new draft after the one published on {day}{closed}",
          "amendment": f"amends the version published on {day}",
          "draft-amendment": f"draft revision of the version published on {day}"}[relation]
    zh_closed = f"，意见已于 {deadline} 截止" if deadline else ""
    zh = {"final": f"{day} 发布的征求意见稿的正式版本{zh_closed}",
          "redraft": f"{day} 发布的征求意见稿之后的新一稿{zh_closed}",
          "amendment": f"修改 {day} 发布的版本",
          "draft-amendment": f"对 {day} 发布版本的修订草案"}[relation]
    return pick((zh + (f"：{changes_zh}" if changes_zh else ""), en + (f": {changes}" if changes else "")), language)


# The digest's own words (headings, health notes, footer).
DIGEST_WORDS = {
    "title": ("监管动态周报", "Regulatory digest"),
    "highlights": ("本期要点", "Highlights"),
    "drafts_open": ("正在征求意见", "Drafts open for comment"),
    "new_rules": ("新发布规则", "New rules"),
    "enforcement": ("执法通报", "Enforcement"),
    "health": ("信息源状态", "Source health"),
    "all_healthy": ("全部 {n} 个信息源在本期均正常抓取。", "All {n} sources were polled successfully in this period."),
    "unhealthy_intro": ("以下信息源在本期出现问题，其间发布的通知可能未被收录：",
                        "These sources had trouble in this period; notices published meanwhile may be missing:"),
    "nothing_new": ("本期没有新的通知。", "Nothing new in this period."),
    "period": ("统计期间", "Period"),
    "notices": ("条新通知", "new notices"),
    "notice": ("条新通知", "new notice"),  # one
    "deadline": ("意见截止", "comments due"),
    "doc_number": ("文号", "Doc. No."),
    "tags": ("主题", "Topics"),
    "title_en": ("英文", "English"),
    "gloss_note": ("英文标题依据术语表直译，方括号内为未收录的原文。",
                   "English titles are glosses from regwatch's glossary; Chinese left in brackets is not yet in it."),
    "bad_polls": ("次失败", "failed polls"),
    "now": ("当前", "now"),
    "unsubscribe": ("退订", "Unsubscribe"),
    "footer": ("本邮件由 regwatch 自动生成，内容来自各监管机构官方网站。",
               "Compiled automatically by regwatch from the regulators' official websites."),
}


def word(key: str, language: str, **values: object) -> str:
    zh, en = DIGEST_WORDS[key]
    return pick((zh.format(**values), en.format(**values)), language)


# The web view's words: every label in both languages, English first (many readers read no Chinese).
WEB_WORDS = {
    "notices": ("通知", "Notices"),
    "sources": ("信息源", "Sources"),
    "deadlines": ("截止与生效", "Deadlines"),
    "feed": ("订阅源", "Feed"),
    "search": ("搜索", "Search"),
    "query": ("关键词", "Words"),
    "since": ("起始日期", "Since"),
    "agency": ("发布机关", "Agency"),
    "source": ("信息源", "Source"),
    "category": ("类别", "Category"),
    "tag": ("主题", "Topic"),
    "any": ("全部", "any"),
    "filter": ("筛选", "Filter"),
    "older": ("更早", "Older"),
    "newer": ("较新", "Newer"),
    "results": ("条结果", "results"),
    "best_first": ("按相关度排列", "best match first"),
    "no_notices": ("没有符合条件的通知。", "No notice matches."),
    "published": ("发布日期", "Published"),
    "first_seen": ("首次发现", "First seen"),
    "baseline": ("基线（首次抓取时已存在）", "baseline (there before the first poll)"),
    "doc_number": ("文号", "Doc. No."),
    "issuer": ("发文机关", "Issuer"),
    "deadline": ("意见截止", "Comments due"),
    "effective": ("施行日期", "Takes effect"),
    "status": ("状态", "Status"),
    "doc_type": ("文件类型", "Document type"),
    "confidence": ("置信度", "Confidence"),
    "review": ("类别待核对", "category to check"),
    "rules": ("分类依据", "Why this category"),
    "earlier_verdicts": ("此前的分类", "Earlier classifications"),
    "tags": ("主题", "Topics"),
    "attachments": ("附件", "Attachments"),
    "versions": ("修改记录", "Edited in place: earlier titles"),
    "instrument_versions": ("文件的其他版本", "Other versions of this instrument"),
    "followed_by": ("后续版本", "Later version"),
    "english": ("英文", "English"),
    "summary": ("英文摘要", "English summary"),
    "alerts": ("推送记录", "Alerts"),
    "no_alerts": ("无（基线，或没有即时订阅）", "none (baseline, or no instant subscription)"),
    "text": ("正文", "Text"),
    "attachment_text": ("附件正文", "Text of the attachments"),
    "open_source": ("查看原文", "Open the source page"),
    "state": ("状态", "State"),
    "healthy_count": ("{total} 个信息源中 {n} 个正常", "{n} of {total} sources healthy"),
    "last_poll": ("最近抓取", "Last poll"),
    "count": ("通知数", "Notices"),
    "error": ("错误", "Error"),
    "comments_close": ("意见截止", "comments close"),
    "takes_effect": ("施行", "takes effect"),
    "no_dates": ("未来 {n} 天内没有截止或生效日期。",
                 "No comment period closes and nothing takes effect in the next {n} days."),
    "days_ahead": ("未来 {n} 天", "the next {n} days"),
    "calendar": ("日历订阅", "Calendar (iCalendar)"),
    "not_found": ("没有这条通知。", "No such notice."),
    "bad_filter": ("筛选条件有误", "A filter is wrong"),
    "sent": ("已发送", "sent"),
    "message": ("消息编号", "message"),
    "attempts": ("次尝试", "attempt(s)"),
}


def english_first(pair: tuple[str, str]) -> str:
    """"English · 中文", as every label of the web view; one of them where both are the same."""
    zh, en = pair
    return en if zh == en else f"{en} · {zh}"


def web_word(key: str, **values: object) -> str:
    """A label for the web view."""
    zh, en = WEB_WORDS[key]
    return english_first((zh.format(**values), en.format(**values)))
