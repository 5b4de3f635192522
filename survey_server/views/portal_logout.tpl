% rebase('portal_layout.tpl', title=t('logout'), lang=lang, t=t, language_links=language_links, csrf_token=csrf_token, logout_url=logout_url)
<h1>{{t('logout_confirm')}}</h1>
<form method="post" action="{{logout_url}}" class="panel">
<input type="hidden" name="csrf_token" value="{{csrf_token}}">
<button type="submit">{{t('logout')}}</button>
</form>
<p><a href="{{home_url}}">{{t('back_to_portal')}}</a></p>
