% rebase('portal_layout.tpl', title=summary['name'], lang=lang, t=t, language_links=language_links, csrf_token=csrf_token, logout_url=logout_url)
<h1>{{summary['name']}}</h1>
<p><a href="{{home_url}}">{{t('back_to_portal')}}</a></p>
<p class="muted">{{survey_title}}</p>
<table>
<thead><tr><th scope="col" class="number">{{t('invited')}}</th><th scope="col" class="number">{{t('sent')}}</th><th scope="col" class="number">{{t('answered')}}</th><th scope="col" class="number">{{t('rate')}}</th></tr></thead>
<tbody><tr id="overall">
<td class="number" data-label="{{t('invited')}}">{{summary['invited']}}</td>
<td class="number" data-label="{{t('sent')}}">{{summary['sent']}}</td>
<td class="number" data-label="{{t('answered')}}">{{summary['answered']}}</td>
<td class="number" data-label="{{t('rate')}}">{{summary['rate']}}</td>
</tr></tbody>
</table>
% if not tables:
<p class="panel">{{t('no_sent_yet')}}</p>
% end
% for table in tables:
<h2>{{t('rate_by', label=table['label'])}}</h2>
<table>
<thead><tr><th scope="col">{{table['label']}}</th><th scope="col" class="number">{{t('sent')}}</th><th scope="col" class="number">{{t('answered')}}</th><th scope="col" class="number">{{t('rate')}}</th></tr></thead>
<tbody>
% for row in table['rows']:
<tr>
<td>{{row['value']}}</td>
<td class="number" data-label="{{t('sent')}}">{{row['sent']}}</td>
<td class="number" data-label="{{t('answered')}}">{{row['answered']}}</td>
<td class="number" data-label="{{t('rate')}}">{{row['rate']}}</td>
</tr>
% end
</tbody>
</table>
% end
