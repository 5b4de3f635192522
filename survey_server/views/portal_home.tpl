% rebase('portal_layout.tpl', title=t('surveys_title'), lang=lang, t=t, language_links=language_links, csrf_token=csrf_token, logout_url=logout_url)
<h1>{{t('surveys_title')}}</h1>
<p class="muted">{{t('signed_in_as', email=email, tenant=tenant_name)}}</p>
% if surveys:
<table>
<thead><tr><th scope="col">{{t('survey')}}</th><th scope="col">{{t('status')}}</th><th scope="col" class="number">{{t('responses')}}</th><th scope="col"><span class="visually-hidden">{{t('open_dashboard')}}</span></th>
% if survey_exports:
<th scope="col">{{t('export')}}</th>
% end
</tr></thead>
<tbody>
% for survey in surveys:
<tr>
<td>{{survey['title']}} <span class="muted">({{survey['slug']}})</span></td>
<td data-label="{{t('status')}}">{{survey['status']}}
% if survey_lifecycle:
<form method="post" action="{{survey['status_form']['url']}}" class="inline">
<input type="hidden" name="csrf_token" value="{{csrf_token}}">
<input type="hidden" name="action" value="{{survey['status_form']['action']}}">
<button type="submit" aria-label="{{t(survey['status_form']['label'] + '_of', title=survey['title'])}}">{{t(survey['status_form']['label'])}}</button>
</form>
% end
</td>
<td class="number" data-label="{{t('responses')}}">{{survey['responses']}}</td>
<td><a href="{{survey['dashboard_url']}}" aria-label="{{t('open_dashboard_of', title=survey['title'])}}">{{t('open_dashboard')}}</a></td>
% if survey_exports:
<td data-label="{{t('export')}}"><nav class="exports" aria-label="{{t('export_of', title=survey['title'])}}">
% for link in survey['exports']:
<a href="{{link['url']}}" download aria-label="{{t('export_as', title=survey['title'], format=link['name'])}}">{{link['name']}}</a>
% end
</nav></td>
% end
</tr>
% end
</tbody>
</table>
% else:
<p class="panel">{{t('no_surveys')}}</p>
% end
% for survey in surveys:
% if survey['distributions']:
<h2>{{t('distributions_of', title=survey['title'])}}</h2>
<table>
<thead><tr><th scope="col">{{t('distribution')}}</th><th scope="col" class="number">{{t('invited')}}</th><th scope="col" class="number">{{t('sent')}}</th><th scope="col" class="number">{{t('answered')}}</th><th scope="col" class="number">{{t('rate')}}</th><th scope="col"><span class="visually-hidden">{{t('by_attribute')}}</span></th></tr></thead>
<tbody>
% for row in survey['distributions']:
<tr>
<td>{{row['name']}}</td>
<td class="number" data-label="{{t('invited')}}">{{row['invited']}}</td>
<td class="number" data-label="{{t('sent')}}">{{row['sent']}}</td>
<td class="number" data-label="{{t('answered')}}">{{row['answered']}}</td>
<td class="number" data-label="{{t('rate')}}">{{row['rate']}}</td>
<td><a href="{{row['url']}}" aria-label="{{t('open_distribution_of', name=row['name'])}}">{{t('by_attribute')}}</a></td>
</tr>
% end
</tbody>
</table>
% end
% end
% if new_distribution_url:
<p><a href="{{new_distribution_url}}">{{t('new_distribution')}}</a></p>
% end
<h2>{{t('reports_title')}}</h2>
<p><a href="{{reports_url}}">{{t('reports_link')}}</a></p>
