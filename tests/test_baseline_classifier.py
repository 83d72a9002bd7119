"""A first pass over many sources classifies its baseline in a helper process: every notice gets exactly
the verdict it would get inline, and none goes without one if the helper fails, talks nonsense or hangs."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from regwatch import baseline_classifier
from regwatch.classify import Classifier

from .conftest import SHIPPED_WATCHLISTS, Install

CONFIG = ('[watch]\nsets = ["core", "national", "courts", "provinces", "foreign"]\n'
          "[detail]\nenabled = false\n")  # list titles only: the verdict a baseline gets at first


def stored_verdicts(install: Install) -> dict[int, tuple]:
    with install.db() as conn:
        return {r["id"]: (r["title"], r["source_id"], r["agency"], r["category"], json.loads(r["tags"]),
                          r["doc_type"], r["status"], r["rules_version"])
                for r in conn.execute("SELECT * FROM notices")}


def prepare(install: Install) -> None:
    for path in SHIPPED_WATCHLISTS.glob("*.toml"):
        shutil.copy(path, install.watchlists / path.name)
    install.write_config(CONFIG, fetch_extra="per_host_concurrency = 4")


def test_the_helper_gives_every_baseline_notice_its_inline_verdict(site_install: Install, monkeypatch) -> None:
    prepare(site_install)
    answered: list[str] = []
    ask = baseline_classifier.Helper.verdicts

    async def counting(self, source_id, agency, titles):  # the titles go to the helper, and it answers
        verdicts = await ask(self, source_id, agency, titles)
        answered.extend(titles if verdicts is not None else [])
        return verdicts

    monkeypatch.setattr(baseline_classifier.Helper, "verdicts", counting)
    inline = Classifier.classify
    monkeypatch.setattr(Classifier, "classify", lambda *args: pytest.fail(f"classified inline: {args[1]}"))
    assert site_install.cli("poll", "--all", "--no-deliver").exit_code == 0
    monkeypatch.setattr(Classifier, "classify", inline)
    stored = stored_verdicts(site_install)
    assert len(stored) > 200 and sorted({v[0] for v in stored.values()}) == sorted(set(answered))
    classifier = Classifier()
    for title, source, agency, category, tags, doc_type, status, version in stored.values():
        verdict = classifier.classify(title, "", source, agency)
        assert (category, tags, doc_type, status, version) == (
            verdict.category, verdict.tags, verdict.doc_type, verdict.status, verdict.version), title


@pytest.mark.parametrize("child", [
    (sys.executable, "-c", "import sys; sys.exit(3)"),  # dies at once
    (sys.executable, "-c", "import sys\nfor line in sys.stdin: print('not json', flush=True)"),  # talks nonsense
    (sys.executable, "-c", "import sys, time\nfor line in sys.stdin: time.sleep(60)"),  # hangs
], ids=["dies", "garbled", "hangs"])
def test_a_failing_helper_leaves_no_notice_unclassified(site_install: Install, monkeypatch, child) -> None:
    prepare(site_install)
    monkeypatch.setattr(baseline_classifier, "CHILD", child)
    monkeypatch.setattr(baseline_classifier, "WAIT_SECONDS", 2.0)
    assert site_install.cli("poll", "--all", "--no-deliver").exit_code == 0
    stored = stored_verdicts(site_install)
    assert len(stored) > 200 and all(v[3] and v[7] for v in stored.values())  # a category and a rules version
