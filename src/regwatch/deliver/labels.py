"""Words a message shows, in Chinese, English or both (a subscription's `language`)."""

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
    "agency": ("发布机关", "Agency"),
    "category": ("类别", "Category"),
    "tags": ("主题", "Topics"),
    "published": ("发布日期", "Published"),
    "doc_number": ("文号", "Doc. No."),
    "deadline": ("意见截止", "Comments due"),
    "open": ("查看原文", "Open"),
    "new": ("新通知", "New notice"),
    "edited": ("通知已更新", "Notice updated"),
    "batch": ("条新通知", "new notices"),
    "more": ("更多", "more"),
    "and_more": ("另有 {n} 条", "{n} more"),
    "sample": ("测试消息", "Test message"),
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
