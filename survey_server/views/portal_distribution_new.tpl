% rebase('portal_layout.tpl', title=t('upload_title'), lang=lang, t=t, language_links=language_links, csrf_token=csrf_token, logout_url=logout_url)
<h1>{{t('upload_title')}}</h1>
<p><a href="{{home_url}}">{{t('back_to_portal')}}</a></p>
% if error:
<p class="error" role="alert" id="upload-error">{{error}}</p>
% end
<form method="post" action="{{action}}" enctype="multipart/form-data" class="panel">
<input type="hidden" name="csrf_token" value="{{csrf_token}}">
<label for="survey">{{t('upload_survey')}}</label>
<select id="survey" name="survey" required>
% for survey in surveys:
<option value="{{survey['slug']}}"{{!' selected' if survey['slug'] == choice['survey'] else ''}}>{{survey['title']}} ({{survey['slug']}})</option>
% end
</select>
<label for="name">{{t('upload_name')}}</label>
<input type="text" id="name" name="name" value="{{choice['name']}}" required maxlength="200">
<label for="reminder_after_days">{{t('upload_reminder')}}</label>
<input type="number" id="reminder_after_days" name="reminder_after_days" min="1" max="365" value="{{choice['reminder'] if choice['reminder'] and choice['reminder'] > 0 else ''}}">
<label for="recipients">{{t('upload_file')}}</label>
<p class="muted" id="recipients-hint">{{t('upload_file_hint', megabytes=max_megabytes)}}</p>
<input type="file" id="recipients" name="recipients" accept=".csv,text/csv" required aria-describedby="recipients-hint">
<button type="submit" class="wide">{{t('upload_button')}}</button>
</form>
