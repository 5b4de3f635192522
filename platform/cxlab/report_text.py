"""The weekly report's words in Japanese and English (cxlab.weekly_report fills them in).

>>> say("nps_this", "ja", metric="NPS", value=20.0, low=0.6, high=38.2, n=100)
'今期のNPS：+20.0（95%区間 +0.6〜+38.2、回答100件）'
>>> say("nps_this", "en", metric="eNPS", value=-5.0, low=-20.0, high=10.0, n=1234)
'eNPS this period: -5.0 (95 % interval -20.0 to +10.0, 1,234 answers)'
"""

from __future__ import annotations

from cxlab.errors import CxlabError

LANGUAGES = ("ja", "en")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "heading_cx": "{name} — weekly customer-experience report, {period}",
        "heading_ex": "{name} — weekly employee-experience report, {period}",
        "no_answers": "<strong>No answers this period</strong> ({period}): there is nothing "
                      "to report.",
        "demo": "Demo data: the seeded demo tenant, not a client's answers.",
        "survey_without_answers": "Survey “{title}” had no answers this period.",
        "every_survey": "No survey was named: reporting every survey with answers this "
                        "period ({names}).",
        "nps_this": "{metric} this period: {value:+.1f} (95 % interval {low:+.1f} to "
                    "{high:+.1f}, {n:,} answers)",
        "nps_no_previous": "; no answers in the previous period to compare with.",
        "nps_change": ", {direction} on the previous period ({before:+.1f}, {n_before:,} "
                      "answers; {verdict}).",
        "up": "up {size:.1f} points", "down": "down {size:.1f} points", "same": "unchanged",
        "significant": "a significant change", "within": "within the margin of error",
        "trend": "{metric} over the last weeks",
        "trend_caption": "week starting; bars: 95 % interval",
        "improve": "What to improve first",
        "fix_first": "{label} matters to {metric} ({share} of what the items explain) and "
                     "scores below the other items ({mean:.1f} of {top}): fix it first.",
        "effect": " Moving its low ratings ({low}) up to the middle would add about "
                  "{effect:.1f} {metric} points (95 % interval {effect_low:.1f} to "
                  "{effect_high:.1f}).",
        "effect_unknown": " Too few low or high ratings to put its effect in {metric} points.",
        "no_fix": "No item both matters much to {metric} and scores below the others: "
                  "nothing needs fixing first.",
        "keep": "Keep up: {labels} — they matter to {metric} and score well.",
        "largest_effect": "The largest improvement effect is {label}: about +{effect:.1f} "
                          "{metric} points if its low ratings ({low}) moved up to the middle.",
        "check_direction": "{label}: a higher rating goes with a lower {metric} — check the "
                           "wording or reverse the item.",
        "from_period": "From this period's answers.",
        "from_history": "This period has too few answers for stable estimates, so this part "
                        "uses the last {weeks} weeks.",
        "too_few_drivers": "Too few answers to tell what moves {metric}.",
        "drivers_error": "What moves {metric} could not be analysed: {reason}.",
        "segments": "By {label}",
        "best": "Best {label} by {metric}: {phrase}.",
        "lowest": "Lowest: {phrase}.",
        "segment": "{name} ({value:+.1f}, 95 % interval {low:+.1f} to {high:+.1f}, "
                   "{n:,} answers)",
        "too_few_segments": "Too few answers to compare by {label} this period: each needs "
                            "at least {min_n} answers to be ranked.",
        "not_ranked": "Not ranked (fewer than {min_n} answers): {listed}.",
        "hidden_survey": "Fewer than {min_group} answers this period: the results are hidden "
                         "to protect the respondents' anonymity.",
        "hidden_note": "hidden (too few answers)",
        "hidden_segments": "Hidden to protect anonymity (fewer than {min_group} answers, or "
                           "needed to keep those from being worked out): {names}.",
        "groups": "Scores by area",
        "group_row": "{group}: {mean:.2f} of {top} on average; {top2} chose the top two "
                     "answers",
        "topics": "What comments are about",
        "topic_row": "comments on {topic}: {det} of detractors' comments, {pro} of "
                     "promoters'",
        "comments": "Notable comments",
        "no_comments": "No comments this period.",
        "from_detractors": "From detractors (0–6)",
        "from_promoters": "From promoters (9–10)",
        "answers": "{n:,} answers",
    },
    "ja": {
        "heading_cx": "{name} — 週次 顧客体験レポート（{period}）",
        "heading_ex": "{name} — 週次 従業員体験レポート（{period}）",
        "no_answers": "<strong>今期の回答はありません</strong>（{period}）。報告する内容が"
                      "ありません。",
        "demo": "デモデータ：シードしたデモテナントで、お客様の回答ではありません。",
        "survey_without_answers": "調査「{title}」は今期の回答がありませんでした。",
        "every_survey": "調査の指定がないため、今期回答のあったすべての調査を報告します"
                        "（{names}）。",
        "nps_this": "今期の{metric}：{value:+.1f}（95%区間 {low:+.1f}〜{high:+.1f}、"
                    "回答{n:,}件）",
        "nps_no_previous": "。前期の回答がないため比較できません。",
        "nps_change": "。前期（{before:+.1f}、回答{n_before:,}件）から{direction}"
                      "（{verdict}）。",
        "up": "{size:.1f}ポイント上昇", "down": "{size:.1f}ポイント低下", "same": "変化なし",
        "significant": "統計的に有意な変化", "within": "誤差の範囲内",
        "trend": "直近の{metric}推移",
        "trend_caption": "週の開始日／縦棒：95%区間",
        "improve": "優先して改善すべき項目",
        "fix_first": "{label}は{metric}への影響が大きく（項目全体で説明できる分の{share}）、"
                     "評価が他の項目より低い（{top}点中{mean:.1f}）ため、最優先で改善すべき"
                     "項目です。",
        "effect": "低い評価（{low}）を中間まで引き上げると、{metric}は約{effect:.1f}ポイント"
                  "上がる見込みです（95%区間 {effect_low:.1f}〜{effect_high:.1f}）。",
        "effect_unknown": "低い評価・高い評価の回答が少ないため、{metric}への改善効果は"
                          "算出できません。",
        "no_fix": "{metric}への影響が大きく、かつ評価の低い項目はありません。最優先で改善"
                  "すべき項目はありません。",
        "keep": "維持：{labels}は{metric}への影響が大きく、評価も高い項目です。",
        "largest_effect": "改善効果が最も大きいのは{label}です。低い評価（{low}）を中間まで"
                          "引き上げると、{metric}は約{effect:.1f}ポイント上がる見込みです。",
        "check_direction": "{label}：評価が高いほど{metric}が低い傾向があります。設問の"
                           "表現を確認するか、逆転項目として扱ってください。",
        "from_period": "今期の回答から算出。",
        "from_history": "今期は回答が少なく推定が安定しないため、この部分は直近{weeks}週の"
                        "回答から算出しています。",
        "too_few_drivers": "回答が少ないため、{metric}を動かす項目は判断できません。",
        "drivers_error": "{metric}を動かす項目を分析できませんでした：{reason}。",
        "segments": "{label}別",
        "best": "{metric}が最も高い{label}：{phrase}。",
        "lowest": "最も低い{label}：{phrase}。",
        "segment": "{name}（{value:+.1f}、95%区間 {low:+.1f}〜{high:+.1f}、回答{n:,}件）",
        "too_few_segments": "今期は回答が少なく、{label}別の比較はできません（順位付けには"
                            "各{min_n}件以上の回答が必要です）。",
        "not_ranked": "回答{min_n}件未満のため順位なし：{listed}。",
        "hidden_survey": "今期の回答は{min_group}件未満のため、回答者の匿名性を守るために"
                         "結果を表示しません。",
        "hidden_note": "非表示（回答数が少ないため）",
        "hidden_segments": "匿名性を守るため非表示（回答{min_group}件未満、またはその件数を"
                           "割り出せないようにするため）：{names}。",
        "groups": "領域別スコア",
        "group_row": "{group}：平均{mean:.2f}（{top}点満点）、上位2段階の回答{top2}",
        "topics": "コメントの話題",
        "topic_row": "「{topic}」に触れたコメント：批判者のコメントの{det}、推奨者の{pro}",
        "comments": "注目のコメント",
        "no_comments": "今期のコメントはありません。",
        "from_detractors": "批判者（0〜6）から",
        "from_promoters": "推奨者（9〜10）から",
        "answers": "回答{n:,}件",
    },
}


def say(key: str, language: str, **values: object) -> str:
    """The sentence ``key`` in ``language`` ("ja" or "en") with ``values`` filled in."""
    if language not in TEXT:
        raise CxlabError(f"report language must be one of {', '.join(LANGUAGES)} "
                         f"(got {language!r})")
    return TEXT[language][key].format(**values)


def percent(share: float, language: str) -> str:
    """A share as a whole percentage: "31 %" in English, "31%" in Japanese.

    >>> percent(0.314, "en"), percent(0.314, "ja"), percent(float("nan"), "en")
    ('31 %', '31%', '–')
    """
    if share != share:  # NaN: nobody in the group
        return "–"
    return f"{share:.0%}" if language == "ja" else f"{share:.0%}".replace("%", " %")


def listing(items: list[str], language: str) -> str:
    """Names joined as a list: "a, b and c" / "a、b、c".

    >>> listing(["a", "b", "c"], "en"), listing(["a", "b"], "ja")
    ('a, b and c', 'a、b')
    """
    if language == "ja":
        return "、".join(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
