% rebase('portal_layout.tpl', title=t('preview_title'), lang=lang, t=t, language_links=language_links, csrf_token=csrf_token, logout_url=logout_url)
<h1>{{t('preview_title')}}</h1>
<p class="muted">{{survey_title}} – {{name}}</p>
<p class="panel" id="counts">{{t('preview_counts', rows=rows, valid=valid)}}
% if reminder:
{{t('preview_reminder', count=reminder)}}
% end
</p>
% if problems:
<h2>{{t('preview_problems', count=len(problems))}}</h2>
<ul id="problems">
% for problem in problems:
<li>{{problem}}</li>
% end
</ul>
% end
% if opted_out:
<h2>{{t('preview_opted_out', count=len(opted_out))}}</h2>
<ul id="opted-out">
% for problem in opted_out:
<li>{{problem}}</li>
% end
</ul>
% end
% if first_rows:
<h2>{{t('preview_first_rows')}}</h2>
<table>
<thead><tr>
% for column in columns:
<th scope="col">{{column}}</th>
% end
</tr></thead>
<tbody>
% for row in first_rows:
<tr>
% for column, value in zip(columns, row):
<td data-label="{{column}}">{{value}}</td>
% end
</tr>
% end
</tbody>
</table>
<form method="post" action="{{confirm_url}}">
<input type="hidden" name="csrf_token" value="{{csrf_token}}">
<input type="hidden" name="reference" value="{{reference}}">
<button type="submit" class="wide">{{t('confirm_button')}}</button>
</form>
% end
<p><a href="{{back_url}}">{{t('upload_again')}}</a></p>
