% rebase('portal_layout.tpl', title=t('reports_title'), lang=lang, t=t, language_links=language_links, csrf_token=csrf_token, logout_url=logout_url)
<h1>{{t('reports_title')}}</h1>
<p><a href="{{home_url}}">{{t('back_to_portal')}}</a></p>
% if reports:
<table>
<thead><tr><th scope="col">{{t('report_date')}}</th><th scope="col">{{t('report')}}</th><th scope="col">{{t('report_file')}}</th></tr></thead>
<tbody>
% for report in reports:
<tr>
<td>{{report['date']}}</td>
<td data-label="{{t('report')}}">{{report['job']}}</td>
<td data-label="{{t('report_file')}}"><a href="{{report['url']}}">{{report['file_name']}}</a></td>
</tr>
% end
</tbody>
</table>
% elif scoped:
<p class="panel">{{t('reports_not_in_scope')}}</p>
% else:
<p class="panel">{{t('no_reports')}}</p>
% end
% if not scoped:
<h2>{{t('subscription_title')}}</h2>
<form method="post" action="{{subscription_url}}" class="panel" id="report-subscription">
<input type="hidden" name="csrf_token" value="{{csrf_token}}">
% if subscribed:
<p>{{t('subscribed', email=email)}}</p>
<input type="hidden" name="action" value="unsubscribe">
<button type="submit">{{t('unsubscribe')}}</button>
% else:
<p>{{t('not_subscribed', email=email)}}</p>
<input type="hidden" name="action" value="subscribe">
<button type="submit">{{t('subscribe')}}</button>
% end
</form>
% end
