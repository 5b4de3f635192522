"""The respondent pages' own words in Japanese and English, and language choice.

>>> choose_language("en", "ja,en;q=0.5", ("ja", "en"))
'en'
>>> choose_language(None, "en-GB,en;q=0.9,ja;q=0.8", ("ja", "en"))
'en'
>>> choose_language(None, None, ("ja", "en"))
'ja'
>>> error_text("must be a whole number from 1 to 5", "ja")
'1から5までの数字で答えてください'
>>> error_text("row 'Speed': this row needs an answer", "en")
"Row 'Speed': this row needs an answer"
"""

from __future__ import annotations

import re

LANGUAGES = ("ja", "en")

TEXT = {
    "required": {"ja": "必須", "en": "required"},
    "next": {"ja": "次へ", "en": "Next"},
    "nps_hint": {
        "ja": "0 = まったくすすめない、10 = 非常にすすめる",
        "en": "0 = not at all likely, 10 = extremely likely",
    },
    "submit": {"ja": "送信する", "en": "Submit"},
    "page_of": {"ja": "{total}ページ中{page}ページ目", "en": "Page {page} of {total}"},
    "errors_title": {
        "ja": "{count}件の回答を確認してください",
        "en": "Please check {count} answer(s)",
    },
    "resume_hint": {
        "ja": "このページのアドレスを保存すると、{days}日以内なら続きから回答できます。",
        "en": "Bookmark this page to continue where you stopped, within {days} days.",
    },
    "thanks": {
        "ja": "ご回答ありがとうございました。",
        "en": "Thank you for your answers.",
    },
    "thanks_title": {"ja": "送信しました", "en": "Thank you"},
    # What the survey page says about anonymity: truthful for each kind of link. The
    # group sentence only where every surface, exports included, hides small groups.
    "anonymity_unlinked": {
        "ja": "匿名の調査です。回答はメールアドレスやご招待と結び付けずに保存されます。",
        "en": "This survey is anonymous: your answers are stored with no link to your "
              "invitation or e-mail address.",
    },
    "anonymity_linked": {
        "ja": "回答はご招待（メールアドレス）と結び付けて保存され、ご招待した組織はあなたの"
              "回答として見ることができます。",
        "en": "Your answers are stored with your invitation, and so with your e-mail "
              "address: the organisation that invited you can see them as yours.",
    },
    "anonymity_open": {
        "ja": "回答はお名前やメールアドレスなしで保存されます（回答欄にご自身で書いた場合を"
              "除く）。",
        "en": "Your answers are stored without your name or e-mail address (unless you "
              "write them in an answer).",
    },
    "anonymity_groups": {
        "ja": "結果は{min_group}人以上のグループについてのみ表示されます。",
        "en": "Results are shown only for groups of at least {min_group} people.",
    },
    "already_answered_title": {"ja": "回答済みです", "en": "Already answered"},
    "already_answered": {
        "ja": "このアンケートにはすでにご回答いただいています。ありがとうございました。",
        "en": "You have already answered this survey. Thank you!",
    },
    "closed_title": {"ja": "受付終了", "en": "Survey closed"},
    "closed": {
        "ja": "このアンケートの受付は終了しました。ご協力ありがとうございました。",
        "en": "This survey is closed. Thank you for your interest.",
    },
    "not_yet_open": {
        "ja": "このアンケートはまだ始まっていません。",
        "en": "This survey is not open yet.",
    },
    "not_found_title": {"ja": "ページが見つかりません", "en": "Page not found"},
    "not_found": {
        "ja": "このアンケートは見つかりませんでした。リンクをご確認ください。",
        "en": "We could not find this survey. Please check the link.",
    },
    "expired_title": {"ja": "リンクの有効期限切れ", "en": "Link expired"},
    "expired": {
        "ja": "保存された回答の有効期限が切れました。最初から回答してください。",
        "en": "Your saved answers have expired. Please start again.",
    },
    "start_again": {"ja": "最初から回答する", "en": "Start again"},
    "bad_form_title": {"ja": "送信できませんでした", "en": "Could not submit"},
    "bad_form": {
        "ja": "フォームが正しくありません。ページを再読み込みしてもう一度お試しください。",
        "en": "This form is not valid any more. Please reload the page and try again.",
    },
    "too_large_title": {"ja": "入力が長すぎます", "en": "Too much text"},
    "too_large": {
        "ja": "送信された内容が大きすぎます。短くしてもう一度お試しください。",
        "en": "What you sent is too large. Please shorten it and try again.",
    },
    "error_title": {"ja": "エラー", "en": "Something went wrong"},
    "error": {
        "ja": "問題が発生しました。しばらくしてからもう一度お試しください。",
        "en": "Something went wrong on our side. Please try again in a moment.",
    },
    "unavailable": {
        "ja": "ただいま混み合っています。少し待ってからもう一度送信してください。",
        "en": "We are busy right now. Please wait a moment and submit again.",
    },
    # Unsubscribe link of distribution e-mails
    "optout_title": {"ja": "配信停止", "en": "Unsubscribe"},
    "optout_confirm": {
        "ja": "{email} への{tenant}からのアンケートメールを停止しますか？",
        "en": "Stop survey e-mails from {tenant} to {email}?",
    },
    "optout_button": {"ja": "配信を停止する", "en": "Unsubscribe"},
    "optout_done": {
        "ja": "{email} への{tenant}からのアンケートメールを停止しました。",
        "en": "{email} will receive no more survey e-mails from {tenant}.",
    },
    "optout_bad_link": {
        "ja": "この配信停止リンクは正しくありません。メールのリンクをそのままお使いください。",
        "en": "This unsubscribe link is not valid. Please use the link from the e-mail as is.",
    },
    # Client portal
    "portal_name": {"ja": "クライアントポータル", "en": "Client portal"},
    "login_title": {"ja": "ログイン", "en": "Sign in"},
    "email": {"ja": "メールアドレス", "en": "E-mail address"},
    "password": {"ja": "パスワード", "en": "Password"},
    "login_button": {"ja": "ログイン", "en": "Sign in"},
    "login_failed": {
        "ja": "メールアドレスまたはパスワードが正しくありません。",
        "en": "The e-mail address or password is not correct.",
    },
    "login_missing": {
        "ja": "メールアドレスとパスワードを入力してください。",
        "en": "Please enter your e-mail address and password.",
    },
    "locked_out": {
        "ja": "ログインの失敗が続いたため、一時的にログインできません。"
              "{minutes}分後にもう一度お試しください。",
        "en": "Too many failed sign-ins. Please try again in {minutes} minute(s).",
    },
    "csrf_title": {"ja": "送信できませんでした", "en": "Request refused"},
    "csrf": {
        "ja": "このフォームは有効期限が切れたか、正しくありません。"
              "ページを再読み込みしてもう一度お試しください。",
        "en": "This form has expired or is not valid. Please reload the page and try again.",
    },
    "surveys_title": {"ja": "アンケート", "en": "Surveys"},
    "signed_in_as": {
        "ja": "{email}（{tenant}）でログイン中", "en": "Signed in as {email} ({tenant})",
    },
    "survey": {"ja": "アンケート", "en": "Survey"},
    "status": {"ja": "状態", "en": "Status"},
    "responses": {"ja": "回答数", "en": "Responses"},
    "status_open": {"ja": "受付中", "en": "open"},
    "status_closed": {"ja": "終了", "en": "closed"},
    "open_dashboard": {"ja": "ダッシュボードを開く", "en": "Open dashboard"},
    "open_dashboard_of": {
        "ja": "{title}のダッシュボードを開く", "en": "Open dashboard of {title}",
    },
    "no_surveys": {"ja": "アンケートはまだありません。", "en": "There are no surveys yet."},
    "reports_title": {"ja": "レポート", "en": "Reports"},
    "reports_link": {"ja": "定期レポートを見る", "en": "See scheduled reports"},
    "report": {"ja": "レポート", "en": "Report"},
    "report_date": {"ja": "日付", "en": "Date"},
    "report_file": {"ja": "ファイル", "en": "File"},
    "subscription_title": {"ja": "メールで受け取る", "en": "By e-mail"},
    "subscribed": {
        "ja": "毎週のレポート（PDF）を {email} にお送りしています。",
        "en": "The weekly report (PDF) is e-mailed to {email}.",
    },
    "not_subscribed": {
        "ja": "毎週のレポート（PDF）を {email} で受け取れます。",
        "en": "You can receive the weekly report (PDF) at {email}.",
    },
    "subscribe": {"ja": "メールで受け取る", "en": "Send it to me"},
    "unsubscribe": {"ja": "受け取りをやめる", "en": "Stop sending it"},
    "subscription_refused_title": {"ja": "変更できません", "en": "Not changed"},
    "subscription_bad_action": {
        "ja": "操作は subscribe か unsubscribe を指定してください。",
        "en": "The action must be subscribe or unsubscribe.",
    },
    "back_to_reports": {"ja": "レポートに戻る", "en": "Back to reports"},
    "no_reports": {"ja": "レポートはまだありません。", "en": "There are no reports yet."},
    "back_to_portal": {"ja": "ポータルに戻る", "en": "Back to the portal"},
    "logout": {"ja": "ログアウト", "en": "Sign out"},
    "logout_confirm": {"ja": "ログアウトしますか？", "en": "Sign out of the portal?"},
    "other_language": {"ja": "English", "en": "日本語"},
    "distributions": {"ja": "配信", "en": "Distributions"},
    "distribution": {"ja": "配信", "en": "Distribution"},
    "invited": {"ja": "招待", "en": "Invited"},
    "sent": {"ja": "送信済み", "en": "Sent"},
    "answered": {"ja": "回答", "en": "Answered"},
    "rate": {"ja": "回答率", "en": "Rate"},
    "distributions_of": {"ja": "{title}の配信", "en": "Distributions of {title}"},
    "open_distribution_of": {
        "ja": "{name}の属性別回答率", "en": "Response rate of {name} by attribute",
    },
    "by_attribute": {"ja": "属性別", "en": "By attribute"},
    "rate_by": {"ja": "{label}別の回答率", "en": "Response rate by {label}"},
    "no_sent_yet": {
        "ja": "まだ送信されたメールはありません。",
        "en": "No e-mail has been sent yet.",
    },
    "new_distribution": {"ja": "CSVから配信を作成", "en": "New distribution from a CSV"},
    "upload_title": {"ja": "配信の作成", "en": "New distribution"},
    "upload_survey": {"ja": "アンケート", "en": "Survey"},
    "upload_name": {"ja": "配信名", "en": "Distribution name"},
    "upload_reminder": {
        "ja": "リマインドまでの日数(任意)", "en": "Remind after days (optional)",
    },
    "upload_file": {"ja": "宛先CSV", "en": "Recipient CSV"},
    "upload_file_hint": {
        "ja": "1行目は列名(email と、店舗などの属性)。UTF-8 または Shift_JIS、"
              "{megabytes} MB まで。",
        "en": "First line: column names (email, and attributes such as store). "
              "UTF-8 or Shift_JIS, up to {megabytes} MB.",
    },
    "upload_button": {"ja": "内容を確認する", "en": "Preview"},
    "upload_survey_missing": {
        "ja": "アンケートを選んでください。", "en": "Choose a survey.",
    },
    "upload_name_missing": {
        "ja": "配信名を入力してください。", "en": "Give the distribution a name.",
    },
    "upload_reminder_invalid": {
        "ja": "リマインドまでの日数は1から365の整数で入力してください(空欄ならリマインドなし)。",
        "en": "Remind after a whole number of days from 1 to 365 (empty: no reminder).",
    },
    "upload_file_missing": {"ja": "CSVファイルを選んでください。", "en": "Choose a CSV file."},
    "preview_title": {"ja": "配信内容の確認", "en": "Check the distribution"},
    "preview_counts": {
        "ja": "{rows}行中{valid}件に招待メールを送ります。",
        "en": "Of {rows} line(s), {valid} recipient(s) will be invited.",
    },
    "preview_reminder": {
        "ja": "未回答者には{days}日後にリマインドします。",
        "en": "Those who have not answered are reminded after {days} day(s).",
    },
    "preview_problems": {
        "ja": "スキップされる行({count}件)", "en": "Lines skipped ({count})",
    },
    "preview_opted_out": {
        "ja": "配信停止済みのため送らない宛先({count}件)",
        "en": "Unsubscribed, not invited ({count})",
    },
    "preview_first_rows": {"ja": "最初の宛先", "en": "First recipients"},
    "confirm_button": {
        "ja": "配信を作成してメールを送る", "en": "Create the distribution and send",
    },
    "upload_again": {"ja": "別のファイルを選ぶ", "en": "Choose another file"},
    "upload_refused_title": {"ja": "配信を作成できません", "en": "Distribution not created"},
    "upload_refused": {"ja": "配信を作成できませんでした。", "en": "Nothing was created."},
    "back_to_upload": {"ja": "アップロードに戻る", "en": "Back to the upload"},
    "forbidden_title": {"ja": "権限がありません", "en": "Not allowed"},
    "admins_only": {
        "ja": "配信を作成できるのは管理者だけです。",
        "en": "Only your organisation's administrators can create distributions.",
    },
    "hidden_for_anonymity": {"ja": "非表示（匿名性の保護）", "en": "hidden (anonymity)"},
    # Question types' form words (cxlab.surveys.types: number and dropdown).
    "number_range": {"ja": "{low}〜{high}", "en": "{low} to {high}"},
    "dropdown_hint": {
        "ja": "入力すると{count}件の候補が絞り込まれます。",
        "en": "Type to narrow down the {count} choices.",
    },
    "portal_not_found": {
        "ja": "お探しのページは見つかりませんでした。",
        "en": "We could not find this page.",
    },
}

# The reasons cxlab.surveys.validate_answers gives, in Japanese.
_ERRORS_JA = [
    (re.compile(r"this question needs an answer"), "この質問にお答えください"),
    (
        re.compile(r"must be a whole number from (-?\d+) to (-?\d+)"),
        r"\1から\2までの数字で答えてください",
    ),
    (re.compile(r"must be one of: .*"), "選択肢から選んでください"),
    (re.compile(r"must be a list drawn from: .*"), "選択肢から選んでください"),
    (re.compile(r"must be at most (\d+) characters"), r"\1文字以内で入力してください"),
    (re.compile(r"must be text"), "文章で入力してください"),
    (re.compile(r"contains characters that are not allowed .*"),
     "使用できない文字が含まれています"),
    # number
    (re.compile(r"must be a number from (\S+) to (\S+)"), r"\1から\2までの数値で答えてください"),
    (re.compile(r"must be a (whole )?number of at least (\S+)"), r"\2以上の数値で答えてください"),
    (re.compile(r"must be a (whole )?number of at most (\S+)"), r"\2以下の数値で答えてください"),
    (re.compile(r"must be a whole number"), "整数で答えてください"),
    (re.compile(r"must be a number"), "数値で答えてください"),
    (re.compile(r"must be a multiple of (\S+)"), r"\1刻みで答えてください"),
    # dropdown
    (re.compile(r"'(.*)' is not one of the \d+ options"),
     r"「\1」は選択肢にありません。候補から選んでください"),
    (re.compile(r"must be one of the \d+ options"), "候補から選んでください"),
    # matrix (a row's own reason follows the row)
    (re.compile(r"this row needs an answer"), "この行にお答えください"),
    (re.compile(r"must be an object of row → answer.*"), "各行の回答を選んでください"),
]
# A matrix row's problem: "row 'speed': <reason>" (the reason translated on its own).
_ROW_PROBLEM = re.compile(r"row '([^']+)': (.+)")


def text(key: str, language: str, **values: object) -> str:
    """A UI string in ``language`` with ``{placeholders}`` filled."""
    template = TEXT[key].get(language) or TEXT[key]["en"]
    return template.format(**values) if values else template


def error_text(message: str, language: str) -> str:
    """A validation reason from cxlab in the respondent's language."""
    row = _ROW_PROBLEM.fullmatch(message)
    if row:
        if language == "ja":
            return f"「{row[1]}」: {error_text(row[2], language)}"
        return f"Row '{row[1]}': {row[2]}"
    if language == "ja":
        for pattern, replacement in _ERRORS_JA:
            if pattern.fullmatch(message):
                return pattern.sub(replacement, message)
    return message[:1].upper() + message[1:]


def choose_language(
    requested: str | None, accept_language: str | None, available: tuple[str, ...]
) -> str:
    """``?lang=`` if the survey has it, else the best of Accept-Language, else the
    survey's first language."""
    available = tuple(language for language in available if language in LANGUAGES) or LANGUAGES
    if requested in available:
        return requested
    ranked = []
    for position, part in enumerate((accept_language or "")[:500].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in available and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else available[0]
