"""Classification: accuracy on held-out titles, explanations, the JSON stream, storage and reclassify."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from regwatch._schema import ConfigError
from regwatch.classify import CATEGORIES, Classifier, default_rules_path

from .classify_eval import by_column, evaluate, load, load_columns
from .conftest import Install


def test_held_out_titles_meet_the_targets() -> None:
    report = evaluate(load("heldout"))
    assert report.n >= 90
    assert report.accuracy >= 0.92, report.errors
    assert report.macro_f1 >= 0.85, report.per_category
    assert report.tag_f1 >= 0.85, report.errors


def test_labelled_set_is_big_enough_and_real() -> None:
    examples = load("all")
    assert len(examples) >= 300
    assert len({e.title for e in examples}) == len(examples)  # no duplicates inflating the score
    assert {e.category for e in examples} == {"Legislation", "Law Enforcement", "Court Rulings", "News Reports",
                                              "Foreign Trends"}


def test_column_labelled_titles_are_new_and_filed_by_their_columns() -> None:
    titles = load_columns(include_shared=False)
    assert len(titles) >= 200
    assert len({t.title for t in titles}) == len(titles)
    assert not {t.title for t in titles} & {e.title for e in load("all")}  # never the evaluation set's titles
    assert {t.category for t in titles} <= set(CATEGORIES) and {t.agency for t in titles} >= {"SAMR", "MIIT", "CAC"}
    scores = by_column(titles)
    right, total = sum(r for r, _ in scores.values()), sum(n for _, n in scores.values())
    assert right / total >= 0.95, sorted(scores.items(), key=lambda item: item[1][0] / item[1][1])[:5]


def test_english_seed_items_land_in_their_bulletin_sections() -> None:
    seeds = [e for e in load("all") if e.source.startswith("seed:")]
    assert len(seeds) >= 35
    classifier = Classifier()
    wrong = [(e.title, e.category, classifier.classify(e.title).category) for e in seeds
             if classifier.classify(e.title).category != e.category]
    assert wrong == []


def test_exclusion_contexts_are_not_hits(tmp_path: Path) -> None:
    classifier = Classifier()
    assert "telecom" not in classifier.classify("信息通信管理局召开移动互联网应用服务能力提升工作推进会").tags
    assert "telecom" in classifier.classify("工业和信息化部关于2021年第三季度电信服务质量的通告").tags
    rules = tmp_path / "rules.toml"
    rules.write_text('version = "t1"\n[[rule]]\nid = "informatisation"\nsets = "tag"\nvalue = "telecom"\n'
                     'patterns = ["信息化"]\nexclude = ["工业和信息化部"]\n', encoding="utf-8")
    custom = Classifier(rules)
    assert custom.classify("工业和信息化部召开会议").tags == []
    assert custom.classify("推进交通运输信息化建设").tags == ["telecom"]


def test_a_rule_can_withdraw_a_broader_rules_vote(tmp_path: Path) -> None:
    classifier = Classifier()  # the shipped rules: a case named by an administrative wrong is a regulator's
    assert classifier.classify("合江县殡仪馆价格违法案").category == "Law Enforcement"
    assert classifier.classify("经营标签不符合规定的化妆品案").category == "Law Enforcement"
    assert classifier.classify("张某诈骗案").category == "Court Rulings"
    assert classifier.classify("被告人张某销售假冒注册商标的商品案").category == "Court Rulings"
    rules = tmp_path / "rules.toml"
    body = ('version = "t1"\n[[rule]]\nid = "bare-case"\nsets = "category"\nvalue = "Court Rulings"\n'
            'weight = 4.0\npatterns = ["案$"]\n[[rule]]\nid = "admin-case"\nsets = "category"\n'
            'value = "Law Enforcement"\nweight = 1.0\npatterns = ["虚假宣传"]\noverrides = ["{}"]\n')
    rules.write_text(body.format("bare-case"), encoding="utf-8")
    verdict = Classifier(rules).classify("某公司虚假宣传案")
    assert (verdict.category, verdict.rules, verdict.review) == ("Law Enforcement", ["admin-case"], False)
    assert Classifier(rules).classify("某公司合同案").category == "Court Rulings"
    rules.write_text(body.format("no-such-rule"), encoding="utf-8")
    with pytest.raises(ConfigError, match="no-such-rule"):
        Classifier(rules)


def test_title_counts_more_than_body() -> None:
    classifier = Classifier()
    assert classifier.classify("关于做好有关工作的通知", "正文提到个人信息一次。").tags == []
    assert classifier.classify("关于做好个人信息保护工作的通知").tags == ["personal-information"]


def run_cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "regwatch", *args], input=stdin, capture_output=True, timeout=60,
                          env={"XDG_CONFIG_HOME": "/nonexistent", "PATH": "/usr/bin:/bin"})


def test_classify_explain() -> None:
    proc = run_cli("classify", "国家互联网信息办公室关于《个人信息出境认证办法（征求意见稿）》公开征求意见的通知",
                   "--explain")
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr
    assert "category: Legislation" in out and "personal-information" in out and "cross-border-data" in out
    assert "draft for comment (draft)" in out
    assert "fired: draft-for-comment" in out and "fired: tag-cross-border-data" in out


def test_classify_json_stream_survives_bad_lines() -> None:
    lines = ["关于侵害用户权益行为的APP通报", "", "\xff\xfe not utf-8", '{"title": "x"', '{"body": "no title"}',
             json.dumps({"title": "2026年上半年金融统计数据报告", "source": "pbc-news"}, ensure_ascii=False)]
    stdin = b"\n".join(line.encode("latin-1") if line.startswith("\xff") else line.encode() for line in lines) + b"\n"
    proc = run_cli("classify", "--json", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(out) == 6
    assert out[0]["category"] == "Law Enforcement" and out[0]["rules"]
    assert out[0]["tags"] == ["personal-information", "apps"]  # labels.md: app-rights circulars are about PI
    assert [o.get("line") for o in out[1:5]] == [2, 3, 4, 5] and all("error" in o for o in out[1:5])
    assert out[5] == {"title": "2026年上半年金融统计数据报告", "category": "News Reports", "tags": [],
                      "topics": [], "doc_type": "news", "status": "final", "rules": out[5]["rules"],
                      "confidence": 1.0, "review": False}  # the news column's prior alone names the category


def test_tags_keep_to_the_bulletin_vocabulary_and_other_subjects_are_topics() -> None:
    """labels.md: payments, antitrust, food and product quality get no bulletin tag; they are topics."""
    lines = ["中国人民银行关于规范跨境支付业务的通知", "市场监管总局对某公司经营者集中案作出处罚",
             "个人信息出境认证办法"]
    proc = run_cli("classify", "--json", stdin="\n".join(lines).encode())
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [(o["tags"], o["topics"]) for o in out] == [
        ([], ["payments"]), ([], ["antitrust"]), (["personal-information", "cross-border-data"], [])]


def test_every_stored_notice_is_classified_and_reclassify_moves_exactly_the_changed(
    site_install: Install, tmp_path: Path
) -> None:
    assert site_install.cli("poll").exit_code == 0
    with site_install.db() as conn:
        assert conn.execute("SELECT count(*) FROM notices WHERE category IS NULL OR rules_version IS NULL"
                            ).fetchone()[0] == 0
        before = {r["id"]: dict(r) for r in conn.execute(
            "SELECT id, title, body, source_id, agency, category, tags, doc_type, status FROM notices")}
    drafts = [r for r in before.values() if r["doc_type"] == "draft for comment"]
    assert drafts

    # A rule change: interpretations now count as News Reports, and a new tag rule for 标准.
    rules = default_rules_path().read_text(encoding="utf-8")
    rules = rules.replace('version = "', 'version = "test-', 1)
    rules = rules.replace('id = "interpretation"\nsets = "category"\nvalue = "Legislation"',
                          'id = "interpretation"\nsets = "category"\nvalue = "News Reports"')
    assert 'value = "News Reports"\nweight = 2.0\nfields = "title"\npatterns = ["解读"' in rules
    custom = tmp_path / "rules.toml"
    custom.write_text(rules, encoding="utf-8")
    new = Classifier(custom)
    expected_changed = {
        nid for nid, r in before.items()
        if (v := new.classify(r["title"], r["body"] or "", r["source_id"], r["agency"]))
        and (v.category, v.tags, v.doc_type, v.status) != (r["category"], json.loads(r["tags"]), r["doc_type"],
                                                           r["status"])
    }
    assert expected_changed  # the change must move something for this test to mean anything

    config = site_install.config_path.read_text(encoding="utf-8")
    site_install.config_path.write_text(config + f'\n[classify]\nrules = "{custom}"\n', encoding="utf-8")
    result = site_install.cli("reclassify")
    assert result.exit_code == 0, result.output
    assert f"{len(expected_changed)} notice(s) changed" in result.stdout
    assert "Legislation → News Reports" in result.stdout
    for nid in expected_changed:  # each moved notice is listed, with what changed
        assert f"#{nid} {before[nid]['title']}\n" in result.stdout
    moved_line = next(line for line in result.stdout.splitlines() if line.startswith("    Legislation → News Reports"))
    assert moved_line.strip().startswith("Legislation → News Reports")
    with site_install.db() as conn:
        after = {r["id"]: dict(r) for r in conn.execute("SELECT id, category, tags, rules_version FROM notices")}
        history = conn.execute("SELECT notice_id, category, reason FROM classification_history "
                               "WHERE reason = 'reclassify'").fetchall()
    changed = {nid for nid in before if after[nid]["category"] != before[nid]["category"]
               or after[nid]["tags"] != before[nid]["tags"]}
    assert changed <= expected_changed
    assert {h["notice_id"] for h in history} == expected_changed
    assert all(after[nid]["rules_version"].startswith("test-") for nid in expected_changed)
    assert all(not after[nid]["rules_version"].startswith("test-") for nid in before if nid not in expected_changed)
    assert {h["category"] for h in history} >= {"Legislation"}
    again = site_install.cli("reclassify")
    assert "0 notice(s) changed" in again.stdout


@pytest.mark.parametrize(("title", "doc_type"), [
    ("国家互联网信息办公室公布《国家网络安全事件报告管理办法》", "departmental rule"),
    ("《互联网广告管理办法》", "departmental rule"),
    ("工业和信息化部关于公布《电信和互联网用户个人信息保护规定》", "departmental rule"),
    ("中国人民银行金融消费者权益保护实施办法", "departmental rule"),
    ("市场监管总局关于印发《网络交易平台规则监督管理办法》的通知", "departmental rule"),
    ("网络安全审查办法实施细则", "departmental rule"),
    ("中华人民共和国个人信息保护法", "law"),
    ("全国人民代表大会常务委员会关于修改《中华人民共和国网络安全法》的决定", "law"),
    ("《中华人民共和国电子商务法》", "law"),
    ("网络数据安全管理条例", "administrative regulation"),
    ("关于开展网络执法专项行动的通知", "normative document"),
    ("The World Forum on Rule of Law in Internet was held in Wuzhen.", "news"),
])
def test_document_types_a_lawyer_files_by(title: str, doc_type: str) -> None:
    """A ministry's 办法/规定/细则 is a departmental rule; `law` is for what the NPC adopts."""
    proc = subprocess.run([sys.executable, "-m", "regwatch", "classify", "--json"], input=title + "\n",
                          capture_output=True, text=True, timeout=60)
    assert json.loads(proc.stdout)["doc_type"] == doc_type


def test_the_model_decides_only_where_no_rule_speaks(tmp_path: Path) -> None:
    """A title no category rule matches gets the model's category when the model is sure enough (the
    verdict names it, and its confidence is the model's); a title a rule matches keeps the rule's; an
    unsure model leaves the default, marked for review; model_min = 1 never asks the model."""
    from regwatch.classify import CATEGORIES
    from regwatch.classify.model import FallbackModel

    classes = list(CATEGORIES)
    court = [5.0 if c == "Court Rulings" else 0.0 for c in classes]
    toy = FallbackModel("toy", classes, [0.0] * len(classes), [("c:劳务派遣", court), ("c:工伤", court)])
    classifier = Classifier()
    classifier.model = toy
    sure = classifier.classify("劳务派遣员工工伤待遇")  # no category rule speaks to it
    assert sure.category == "Court Rulings" and sure.rules[-1].startswith("model:Court Rulings")
    assert "(c:工伤" in sure.rules[-1]  # the explanation names the feature as the model file does
    assert sure.confidence > 0.9 and not sure.review
    ruled = classifier.classify("关于侵害用户权益行为的APP（SDK）通报（2026年第3批，总第56批）")
    assert ruled.category == "Law Enforcement" and not any(r.startswith("model:") for r in ruled.rules)
    unsure = classifier.classify("工作动态（第12期）")
    assert unsure.category == "News Reports" and unsure.review and not any(r.startswith("model:") for r in unsure.rules)
    off = tmp_path / "rules.toml"
    shipped = default_rules_path().read_text(encoding="utf-8")
    off.write_text(re.sub(r"(?m)^model_min = [\d.]+$", "model_min = 1.0", shipped), encoding="utf-8")
    assert "model_min = 1.0" in off.read_text(encoding="utf-8")
    assert Classifier(off).model is None


def test_the_shipped_model_is_loaded_and_speaks_for_unruled_titles() -> None:
    classifier = Classifier()
    assert classifier.model is not None and classifier.model.version.startswith("fallback-")
    verdicts = [classifier.classify(t) for t in ("劳动者超时加班发生工伤的责任如何划分", "某地开展数据安全宣传周活动")]
    assert all(0.0 <= v.confidence <= 1.0 for v in verdicts)


@pytest.mark.parametrize(("full_width", "half_width"), [
    ("关于侵害用户权益行为的ＡＰＰ通报（２０２４年第３批）", "关于侵害用户权益行为的APP通报（2024年第3批）"),
    ("ＧＢ／Ｔ　３５２７３－２０２０　信息安全技术　个人信息安全规范", "GB/T 35273-2020 信息安全技术 个人信息安全规范"),
    ("ＥＵ　ＡＩ　Ａｃｔ　ｅｎｔｅｒｓ　ｉｎｔｏ　ｆｏｒｃｅ", "EU AI Act enters into force"),
])
def test_full_width_letters_and_digits_are_read_as_what_they_stand_for(full_width: str, half_width: str) -> None:
    classifier = Classifier()
    wide, narrow = classifier.classify(full_width), classifier.classify(half_width)
    assert (wide.category, wide.tags, wide.doc_type) == (narrow.category, narrow.tags, narrow.doc_type)
    assert narrow.tags or narrow.doc_type != "news"  # the pair says something, so a match is not two blanks


def test_a_bad_rules_file_stops_a_poll_before_anything_is_stored(pbc_install: Install, tmp_path: Path) -> None:
    """`regwatch poll` builds the classifier while its first requests are out: a rules file that does not
    load still ends the pass with the file named and exit status 2, and stores nothing of it."""
    broken = tmp_path / "rules.toml"
    broken.write_text(default_rules_path().read_text(encoding="utf-8").replace(
        'patterns = ["解读"', 'patterns = ["解读(", "解读"', 1), encoding="utf-8")
    assert 'patterns = ["解读(", "解读"' in broken.read_text(encoding="utf-8")
    config = pbc_install.config_path.read_text(encoding="utf-8")
    pbc_install.config_path.write_text(config + f'\n[classify]\nrules = "{broken}"\n', encoding="utf-8")
    result = pbc_install.cli("poll")
    assert result.exit_code == 2 and str(broken) in result.stderr, result.output
    with pbc_install.db() as conn:
        assert conn.execute("SELECT count(*) FROM notices").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM polls").fetchone()[0] == 0
    pbc_install.config_path.write_text(config, encoding="utf-8")
    assert pbc_install.cli("poll").exit_code == 0
    with pbc_install.db() as conn:
        assert conn.execute("SELECT count(*) FROM notices").fetchone()[0] > 0


def test_the_anchor_prefilter_never_hides_a_rule_that_matches() -> None:
    """Rules are tried only when one of the literals every match of them contains is in the text: the
    verdicts must be exactly those of trying every rule on every title (a literal wrongly taken as
    required would silently drop a rule). Scoped flags, (?-i:US), are groups like any other."""
    from regwatch.classify import anchors

    assert anchors(r"(?-i:\b(US|UK)\b)") == {"us", "uk"} and anchors(r"(?:ab|cd)x") == {"ab", "cd"}
    anchored, brute = Classifier(), Classifier()
    brute._always, brute._needles = tuple(range(len(brute._rules))), None
    assert anchored._always != brute._always  # the prefilter is in use, so the comparison means something
    titles = [e.title for e in load("all")] + [
        "The US Bans All New Foreign-Made Network Routers", "UK ICO fines a retailer", "NYC bans facial recognition",
        "us and them", "ＧＢ／Ｔ　３５２７３－２０２０",
        "关于侵害用户权益行为的APP（SDK）通报（2026年第1批，总第54批）",
        # anchors that count only between word boundaries: inside words, beside an exclusion blanked out
        # (China's is one: the blank makes the boundary), beside letters that lower-case to ASCII ones
        "Cybersecurity review of a ministry's administration", "China'sSEC probes brokers", "the SEC's fines",
        "SEC_x and NIST1", "\u212aSEC fines a bank", "SEC\u0130 x", "Chinese regulatorsFTC", "usage of cookies"]
    assert any(rule.bounds for rule in anchored._rules)  # word-bounded anchors are in use too
    assert any(len(set(rule.needs.values())) > 1 for rule in anchored._rules)  # and a rule's patterns alone
    assert len(anchored._masks_always) < len(anchored._masks) - 1  # and exclusions only where their anchors are
    for title in titles:
        assert anchored.classify(title) == brute.classify(title), title
        assert anchored.classify("", title) == brute.classify("", title), title  # and in a body


def test_a_rule_is_searched_for_the_patterns_whose_anchors_the_text_holds(tmp_path: Path) -> None:
    """A title holding one pattern's anchor is searched for that pattern alone (not the rule's every
    pattern at every position), and still fires the rule; a rule whose patterns refer to groups by number
    (\\1 means the first pattern's group beside it) is always searched whole, as written."""
    rules = tmp_path / "rules.toml"
    rules.write_text('version = "t1"\n[[rule]]\nid = "pi"\nsets = "tag"\nvalue = "personal-information"\n'
                     'patterns = ["个人信息", "隐私[^，。]{0,9}政策", "(APP|SDK)[^，。]{0,8}违规收集"]\n'
                     '[[rule]]\nid = "twice"\nsets = "tag"\nvalue = "ai"\n'
                     'patterns = ["(算法)备案", "生成式\\\\1"]\n', encoding="utf-8")
    anchored, brute = Classifier(rules), Classifier(rules)
    brute._always, brute._needles = tuple(range(len(brute._rules))), None
    pi, twice = anchored._rules
    assert pi.needs == {"个人信息": 1, "隐私": 2, "违规收集": 4} and twice.needs == {}
    titles = ["关于加强个人信息保护的通知", "某APP隐私政策违规收集用户信息", "隐私与安全", "隐私保护政策",
              "SDK超范围违规收集", "生成式算法", "生成式算法备案清单", "算法备案", "无关标题"]
    for title in titles:
        assert anchored.classify(title) == brute.classify(title), title
    assert anchored.classify("某APP隐私政策违规收集用户信息").tags == ["personal-information"]
    assert anchored.classify("隐私与安全").tags == []
    assert "twice" in anchored.classify("生成式算法备案").rules  # (the first pattern matches; \\1 is never met alone)
    assert len(anchored._some) >= 2  # searched by their patterns alone, each choice made once


def test_the_classifier_read_back_from_the_cache_is_the_one_its_rules_build(tmp_path: Path, monkeypatch) -> None:
    """A command reads the built classifier back from the user's cache instead of building it again (~0.3 s
    of a one-off pass), only while its rules file is unchanged: an edited file is built afresh, a file that
    does not load raises as ever and leaves nothing in the cache."""
    from regwatch.classify import load_classifier

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    rules = tmp_path / "rules.toml"
    shipped = default_rules_path().read_text(encoding="utf-8")
    rules.write_text(shipped, encoding="utf-8")
    titles = [*[e.title for e in load("all")][:400], "关于印发《数据出境安全评估办法》的通知", "SEC fines a broker"]
    built = Classifier(rules)
    first = load_classifier(rules)  # built, and kept
    assert list((tmp_path / "cache" / "regwatch").glob("classifier-*.pickle"))
    with monkeypatch.context() as patch:
        patch.setattr(Classifier, "__init__", lambda *args: pytest.fail("the classifier was built again"))
        again = load_classifier(rules)  # read back
    assert again is not first
    for title in titles:
        assert again.classify(title) == first.classify(title) == built.classify(title), title
        assert again.classify("", title) == built.classify("", title), title
    rules.write_text(shipped.replace('note = "the names of cases', 'note = "edited: the names of cases', 1),
                     encoding="utf-8")
    assert load_classifier(rules).notes()["court-case-names"].startswith("edited: ")
    rules.write_text(shipped.replace('patterns = ["解读"', 'patterns = ["解读("', 1), encoding="utf-8")
    with pytest.raises(ConfigError):
        load_classifier(rules)
    assert len(list((tmp_path / "cache" / "regwatch").glob("classifier-*.pickle"))) == 1  # (one entry a file)


def test_a_capital_sigma_is_found_wherever_it_stands(tmp_path: Path) -> None:
    """str.lower makes Σ final (ς) or not (σ) by what follows it: an anchor taken from `ΑΣ` alone must
    still be found in `ΑΣΒ`, or a user's rule in Greek would be silently skipped there."""
    rules = tmp_path / "rules.toml"
    rules.write_text('version = "t1"\n[[rule]]\nid = "greek"\nsets = "tag"\nvalue = "ai"\n'
                     'patterns = ["ΑΣ", "[Σ]Κ", "ας"]\nexclude = ["ΠΣ"]\n', encoding="utf-8")
    anchored, brute = Classifier(rules), Classifier(rules)
    brute._always, brute._needles = tuple(range(len(brute._rules))), None
    for title in ["ΑΣ", "ΑΣΒ x", "ΣΚ", "αΣΚ", "ας", "αςβ", "ΑΣ.", "ΠΣΚ", "ΠΣ ΚΑΣ", "σ"]:
        assert anchored.classify(title) == brute.classify(title), title
    assert anchored.classify("ΑΣΒ x").tags == ["ai"] and anchored.classify("ΠΣΚ").tags == []


def test_a_word_anchor_inside_another_word_does_not_make_a_rule_a_candidate() -> None:
    """A pattern written \\b(SEC|NIST)\\b cannot match where `sec` stands inside `security`, so its rule is
    not searched there; an alternative that lets a letter follow (AGs?) keeps its anchor unbounded."""
    from regwatch.classify import word_bounds

    assert word_bounds(r"\b(SEC|NIST|AI Act|department of )\b") == {
        "sec": (True, True), "nist": (True, True), "ai act": (True, True), "department of ": (True, False)}
    assert word_bounds(r"(?-i:\b(US|USA)\b)") == {"us": (True, True), "usa": (True, True)}
    assert word_bounds(r"\b(AGs?|SEC)\b") == {"sec": (True, True)}
    assert word_bounds(r"\b(SEC)|x\b") == {} and word_bounds(r"\b(?=SEC)\b") == {} and word_bounds("SEC") == {}


def test_stored_tags_and_rules_are_the_json_of_the_verdict() -> None:
    """The store writes a verdict's tags and rule ids as JSON text; rule ids come from a user's rule file,
    so quotes, backslashes, control characters and Chinese must come back as they were, in the text
    json.dumps would have written."""
    from regwatch.classify import Verdict
    from regwatch.store.classification import verdict_columns

    hostile = ['say "hi"', "back\\slash", "line\nbreak\x00", "个人信息", "emoji \U0001F600", ""]
    for tags, rules in (([], []), (["apps", "ai"], hostile), (["minors"], ["model:News Reports 0.71 (c:工作)"])):
        verdict = Verdict(category="News Reports", tags=tags, doc_type="news", status="final", rules=rules,
                          version="v")
        columns = verdict_columns(verdict)
        assert (columns[1], columns[4]) == (json.dumps(tags), json.dumps(rules))
        assert (json.loads(columns[1]), json.loads(columns[4])) == (tags, rules)


@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_classify_json_answers_each_line_as_it_comes(unbuffered: str) -> None:
    """A program that sends a title and waits for its verdict gets it before it sends the next (the answers
    are written in one go per read of the input, and flushed before the next read waits)."""
    env = {"XDG_CONFIG_HOME": "/nonexistent", "PATH": "/usr/bin:/bin"} | (
        {"PYTHONUNBUFFERED": unbuffered} if unbuffered else {})
    proc = subprocess.Popen([sys.executable, "-m", "regwatch", "classify", "--json"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        answers = []
        for title in ("关于侵害用户权益行为的APP通报", "个人信息出境认证办法", "2026年上半年金融统计数据报告"):
            proc.stdin.write(title.encode() + b"\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], 30)
            assert ready, f"no answer to {title!r} while the input stays open"
            answers.append(json.loads(proc.stdout.readline()))
        proc.stdin.write("市场监管总局对某公司经营者集中案作出处罚".encode())  # a last line with no newline
        proc.stdin.close()
        answers += [json.loads(line) for line in proc.stdout.read().splitlines()]
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    assert [a["title"] for a in answers] == ["关于侵害用户权益行为的APP通报", "个人信息出境认证办法",
                                             "2026年上半年金融统计数据报告", "市场监管总局对某公司经营者集中案作出处罚"]
    assert answers[0]["category"] == "Law Enforcement" and answers[1]["category"] == "Legislation"


def test_classify_json_on_a_non_blocking_input_waits_for_its_lines() -> None:
    """An input opened non-blocking (nothing to read yet is not its end): every line is answered."""
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    proc = subprocess.Popen([sys.executable, "-m", "regwatch", "classify", "--json"], stdin=read_end,
                            stdout=subprocess.PIPE, env={"XDG_CONFIG_HOME": "/nonexistent", "PATH": "/usr/bin:/bin"})
    os.close(read_end)
    try:
        time.sleep(1.0)  # the child reads an empty pipe first
        os.write(write_end, "个人信息出境认证办法\n".encode())
        time.sleep(0.3)
        os.write(write_end, "关于侵害用户权益行为的APP通报\n".encode())
        os.close(write_end)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    titles = [json.loads(line)["title"] for line in out.splitlines()]
    assert titles == ["个人信息出境认证办法", "关于侵害用户权益行为的APP通报"]
