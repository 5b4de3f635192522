"""cxlab.analysis.topics on a fixed set of comments with known topics."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from cxlab.analysis.topics import Analyser, comment_topics
from statsmodels.stats.proportion import proportion_confint

# Known topics, each with its own words; waiting and price come from detractors,
# food and staff from promoters (a few exceptions each way).
PLANTED = {
    "waiting": ["待ち時間がとても長かったです。", "料理が出るまでの待ち時間が長すぎます。",
                "待ち時間が三十分以上ありました。", "入店までの待ち時間にうんざりしました。",
                "The waiting time was far too long.", "Long waiting time before we sat down."],
    "staff": ["店員さんの接客が丁寧でした。", "スタッフの接客がとても感じ良かったです。",
              "接客態度が素晴らしい店員さんでした。", "店員さんの笑顔と接客が良かった。",
              "Friendly staff, very attentive service.", "The staff were kind and helpful."],
    "food": ["料理の味が最高でした。", "料理の味付けがちょうど良い。", "料理の盛り付けと味が良い。",
             "季節の料理の味に感動しました。", "Delicious food, great flavour.",
             "The food had wonderful flavour."],
    "price": ["値段が高すぎると思います。", "この値段ならもう少し量が欲しい。",
              "値段の割に量が少ない。", "ランチの値段が上がって残念。",
              "The price is too high for the portion.", "Price went up again, disappointing."],
}
KEYWORDS = {"waiting": ["待ち時間", "waiting"], "staff": ["接客", "staff"],
            "food": ["味", "food"], "price": ["値段", "price"]}


def planted_frame() -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(0)
    for topic, comments in PLANTED.items():
        for repeat in range(3):
            for k, comment in enumerate(comments):
                negative = topic in ("waiting", "price")
                flip = (k + repeat) % 6 == 0  # one in six goes the other way
                low = negative != flip
                score = int(rng.integers(0, 7)) if low else int(rng.integers(9, 11))
                rows.append({"nps": score, "comment": comment, "truth": topic})
    rows.append({"nps": 8, "comment": None, "truth": None})
    rows.append({"nps": 3, "comment": "   ", "truth": None})
    return pd.DataFrame(rows)


def test_key_phrases_are_noun_compounds():
    comment = "料理が出るまでの待ち時間が長すぎます。店員さんの接客は満足できるものでした。"
    phrases = Analyser().phrases(comment)
    assert phrases == ["料理", "待ち時間", "店員", "接客", "満足"]  # no "もの", no "さん"


def test_keyword_topics_match_the_planted_topics_with_direct_shares_and_wilson():
    frame = planted_frame()
    result = comment_topics(frame, "comment", "nps", topics=KEYWORDS)
    assert result.method == "keywords"
    commented = frame[frame["comment"].fillna("").str.strip() != ""]
    assert len(result.comments) == len(commented)
    by_row = result.comments.set_index("row")["topics"]
    for row, truth in commented["truth"].items():
        assert by_row[row] == [truth], (row, frame.loc[row, "comment"])
    table = result.topics.set_index("topic")
    detractors = commented[commented["nps"] <= 6]
    promoters = commented[commented["nps"] >= 9]
    for topic in PLANTED:
        count = int((detractors["truth"] == topic).sum())
        assert table.loc[topic, "detractors"] == count
        assert table.loc[topic, "detractor_share"] == pytest.approx(count / len(detractors))
        low, high = proportion_confint(count, len(detractors), method="wilson")
        assert table.loc[topic, "detractor_ci_low"] == pytest.approx(low, abs=1e-12)
        assert table.loc[topic, "detractor_ci_high"] == pytest.approx(high, abs=1e-12)
        assert table.loc[topic, "promoters"] == int((promoters["truth"] == topic).sum())
    assert table.loc["waiting", "detractor_share"] > table.loc["waiting", "promoter_share"]
    assert table.loc["food", "promoter_share"] > table.loc["food", "detractor_share"]
    waiting = table.loc["waiting"]
    assert waiting.sentence == (f"comments on waiting: {waiting.detractor_share:.0%} of "
                                f"detractors, {waiting.promoter_share:.0%} of promoters"
                                ).replace("%", " %")


def test_nmf_finds_the_planted_japanese_topics_without_keywords():
    frame = planted_frame()
    frame = frame[frame["comment"].fillna("").str.contains(r"[\u3040-\u30ff\u3400-\u9fff]")]
    result = comment_topics(frame, "comment", "nps", n_topics=4)
    assert result.method == "nmf" and len(result.topics) == 4
    assigned = result.comments.set_index("row")["topics"].map(
        lambda found: found[0] if found else None)
    truth = frame.loc[assigned.index, "truth"]
    # Each planted topic lands mostly in one NMF topic, and each in a different one.
    majority = {}
    for topic in PLANTED:
        found = assigned[truth == topic].value_counts()
        majority[topic] = found.index[0]
        assert found.iloc[0] / (truth == topic).sum() >= 0.75, (topic, found)
    assert len(set(majority.values())) == 4
    phrases = result.phrases.set_index("phrase")["comments"]
    assert phrases["待ち時間"] == 12  # four Japanese waiting comments, three times


def test_no_comments_and_no_score_are_defined():
    empty = comment_topics(pd.DataFrame({"nps": [3], "comment": [None]}), "comment", "nps",
                           topics=KEYWORDS)
    assert empty.comments.empty and (empty.topics["comments"] == 0).all()
    assert empty.topics["note"].str.contains("share undefined").all()
    unscored = comment_topics(pd.DataFrame({"comment": ["待ち時間が長い"]}), "comment", None,
                              topics=KEYWORDS)
    assert unscored.topics.set_index("topic").loc["waiting", "comments"] == 1


def test_tfidf_equals_scikit_learn_and_nmf_fits_as_well():
    from cxlab.analysis.topics import nmf, tfidf
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    frame = planted_frame()
    analyser = Analyser()
    phrases = [list(dict.fromkeys(analyser.phrases(c))) for c in frame["comment"].dropna()]
    matrix, vocabulary = tfidf(phrases)
    reference = TfidfVectorizer(analyzer=lambda found: found, min_df=2)
    expected = reference.fit_transform(phrases)
    assert vocabulary == reference.get_feature_names_out().tolist()
    np.testing.assert_allclose(matrix.toarray(), expected.toarray(), atol=1e-12)
    w, h = nmf(matrix, 4)
    ours = np.linalg.norm(matrix.toarray() - w @ h)
    model = NMF(n_components=4, init="nndsvda", random_state=0, max_iter=1000)
    theirs = np.linalg.norm(expected.toarray()
                            - model.fit_transform(expected) @ model.components_)
    assert ours <= 1.05 * theirs, (ours, theirs)


def test_comment_topics_never_imports_scikit_learn():
    """scikit-learn imports scipy.stats: 3–8 s more for every report kernel."""
    comments = [c for bank in PLANTED.values() for c in bank] * 3
    code = ("import sys, json; import pandas as pd; from cxlab.analysis import comment_topics; "
            "comments = json.loads(sys.stdin.read()); "
            "frame = pd.DataFrame({'comment': comments, 'nps': [3, 10] * (len(comments) // 2)}); "
            "found = comment_topics(frame, 'comment', 'nps', n_topics=4).topics; "
            "assert len(found) == 4; "
            "print('sklearn' in sys.modules, 'scipy.stats' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(comments),
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"], done.stderr
