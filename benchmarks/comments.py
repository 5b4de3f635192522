"""Japanese morphological analysers on 100k synthetic comments: Janome vs SudachiPy.

    .venv/bin/python benchmarks/comments.py [--comments 100000] [--analyser both]

Comments are built from topic phrases × qualifiers × endings (thousands of distinct
texts, 15–60 characters, like real survey comments). Measures tokenising every
comment and extracting its noun compounds (what cxlab.analysis.topics does), once
each, after a warm-up; results in benchmarks/RESULTS.md, section "Comments".
"""

from __future__ import annotations

import argparse
import time

import numpy as np

SUBJECTS = ["待ち時間", "料理の提供", "店員さんの接客", "スタッフの対応", "料理の味",
            "メニュー", "お店の雰囲気", "トイレの清潔さ", "値段", "コストパフォーマンス",
            "駐車場", "予約の電話", "テーブルの片付け", "注文の受け付け", "会計"]
QUALIFIERS = ["がとても", "が少し", "が思ったより", "がいつもより", "は正直", "が本当に",
              "が全体的に"]
PREDICATES = ["長かったです", "遅かったです", "良かったです", "丁寧でした",
              "美味しかったです", "そっけなかったです", "高いと感じました", "清潔でした",
              "分かりにくかったです", "満足できるものでした", "残念でした"]
ENDINGS = ["。", "。また来ます。", "。改善をお願いします。", "！", "。次回に期待します。",
           "。家族も喜んでいました。", ""]


def synthetic_comments(count: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    parts = [rng.integers(0, len(bank), (count, 2)) for bank in
             (SUBJECTS, QUALIFIERS, PREDICATES, ENDINGS)]
    two = rng.random(count) < 0.4
    comments = []
    for k in range(count):
        text = (SUBJECTS[parts[0][k, 0]] + QUALIFIERS[parts[1][k, 0]] + PREDICATES[parts[2][k, 0]]
                + ENDINGS[parts[3][k, 0]])
        if two[k]:
            text += (SUBJECTS[parts[0][k, 1]] + QUALIFIERS[parts[1][k, 1]]
                     + PREDICATES[parts[2][k, 1]] + "。")
        comments.append(text)
    return comments


def janome_analyser():  # noqa: ANN201
    """cxlab's Analyser with Janome's tokens in place of SudachiPy's (same compound rule);
    Janome is not a cxlab dependency: `pip install janome==0.5.1` to measure it."""
    from cxlab.analysis.topics import Analyser
    from janome.tokenizer import Tokenizer

    tokenizer = Tokenizer()

    def tokenize(comment: str) -> list[tuple[str, str]]:
        out = []
        for token in tokenizer.tokenize(comment):
            pos = token.part_of_speech.split(",")
            if pos[0] == "名詞" and pos[1] == "接尾":
                kind = "suffix"
            elif pos[0] == "名詞" and pos[1] not in ("数", "非自立", "代名詞"):
                kind = "noun"
            elif pos[0] == "動詞" and pos[1] == "自立" and token.infl_form.startswith("連用形"):
                kind = "stem"
            else:
                kind = "other"
            out.append((token.surface, kind))
        return out

    analyser = Analyser.__new__(Analyser)
    analyser.name, analyser._tokenize = "janome", tokenize
    return analyser


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--analyser", choices=["janome", "sudachi", "both"], default="sudachi")
    args = parser.parse_args()
    from cxlab.analysis.topics import Analyser

    comments = synthetic_comments(args.comments)
    print(f"{len(comments):,} comments, {len(set(comments)):,} distinct, mean "
          f"{np.mean([len(c) for c in comments]):.0f} characters")
    names = ["janome", "sudachi"] if args.analyser == "both" else [args.analyser]
    for name in names:
        started = time.perf_counter()
        analyser = janome_analyser() if name == "janome" else Analyser(name)
        analyser.phrases("準備")  # loads the dictionary
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        phrases = [analyser.phrases(comment) for comment in comments]
        elapsed = time.perf_counter() - started
        found = sum(len(p) for p in phrases)
        print(f"{name}: dictionary {loaded:.1f} s; {elapsed:.1f} s for {len(comments):,} "
              f"comments ({len(comments) / elapsed:,.0f}/s), {found:,} noun phrases; "
              f"e.g. {phrases[0]}")


if __name__ == "__main__":
    main()
