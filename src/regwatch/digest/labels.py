"""Digest wording in Chinese, English or both (the subscription's `language`)."""

from __future__ import annotations

from ..deliver.labels import pick

WORDS = {
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
    "deadline": ("意见截止", "comments due"),
    "doc_number": ("文号", "Doc. No."),
    "tags": ("主题", "Topics"),
    "bad_polls": ("次失败", "failed polls"),
    "now": ("当前", "now"),
    "unsubscribe": ("退订", "Unsubscribe"),
    "footer": ("本邮件由 regwatch 自动生成，内容来自各监管机构官方网站。",
               "Compiled automatically by regwatch from the regulators' official websites."),
}


def word(key: str, language: str, **values: object) -> str:
    zh, en = WORDS[key]
    return pick((zh.format(**values), en.format(**values)), language)
