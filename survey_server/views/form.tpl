% rebase('layout.tpl', title=title, lang=lang)
<h1>{{title}}</h1>
% if intro:
<p class="intro">{{intro}}</p>
% end
<p class="hint" id="anonymity">{{anonymity}}</p>
% if pages > 1:
<div class="progress">
  <span id="progress-label">{{progress_text}}</span>
  <progress value="{{page}}" max="{{pages}}" aria-labelledby="progress-label">{{page}}/{{pages}}</progress>
</div>
% end
% if page_title:
<h2>{{page_title}}</h2>
% end
% if error_summary:
<div class="error-summary" role="alert" tabindex="-1" id="error-summary">
  <h2>{{error_title}}</h2>
  <ul>
  % for anchor, label, message in error_summary:
    <li><a href="#{{anchor}}">{{label}}: {{message}}</a></li>
  % end
  </ul>
</div>
% end
<form method="post" action="{{action}}" novalidate>
<input type="hidden" name="nonce" value="{{nonce}}">
<input type="hidden" name="page" value="{{page_index}}">
% for q in questions:
%   described = q['described']
%   if q['kind'] == 'text':
<div class="question{{' invalid' if q['error'] else ''}}">
  <label for="{{q['anchor']}}">{{q['label']}}\\
%     if q['required']:
<span class="req">({{required_text}})</span>\\
%     end
</label>
%     if q['help']:
  <span class="help" id="{{q['help_id']}}">{{q['help']}}</span>
%     end
%     if q['error']:
  <p class="error" id="{{q['error_id']}}">{{q['error']}}</p>
%     end
  <textarea id="{{q['anchor']}}" name="{{q['id']}}" maxlength="5000"\\
%     if described:
 aria-describedby="{{described}}"\\
%     end
%     if q['error']:
 aria-invalid="true"\\
%     end
>{{q['value']}}</textarea>
</div>
%   else:
<fieldset id="{{q['anchor']}}" class="{{'invalid' if q['error'] else ''}}"\\
%     if described:
 aria-describedby="{{described}}"\\
%     end
>
  <legend>{{q['label']}}\\
%     if q['required']:
<span class="req">({{required_text}})</span>\\
%     end
%     if q['help']:
<span class="help" id="{{q['help_id']}}">{{q['help']}}</span>\\
%     end
</legend>
%     if q['error']:
  <p class="error" id="{{q['error_id']}}">{{q['error']}}</p>
%     end
%     if q['hint']:
  <span class="hint" id="{{q['hint_id']}}">{{q['hint']}}</span>
%     end
  <div class="choices {{q['layout']}}">
%     for choice in q['choices']:
    <label class="choice" for="{{choice['input_id']}}"><input type="{{q['input_type']}}" id="{{choice['input_id']}}" name="{{q['id']}}" value="{{choice['value']}}"{{!' checked' if choice['checked'] else ''}}>\\
%       if choice['label'] != choice['value'] or q['layout'] == 'list':
<span>{{choice['label']}}</span>\\
%       else:
{{choice['label']}}\\
%       end
</label>
%     end
  </div>
</fieldset>
%   end
% end
<button type="submit">{{button}}</button>
</form>
% if resume_hint:
<p class="hint">{{resume_hint}}</p>
% end
