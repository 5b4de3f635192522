%# A dropdown: a text box whose suggestions (a datalist) narrow as one types, so a
%# phone can search a long list without any script; the server maps the label back.
<div class="question{{' invalid' if q['error'] else ''}}">
  <label for="{{q['anchor']}}">{{q['label']}}\\
% if q['required']:
<span class="req">({{required_text}})</span>\\
% end
</label>
% if q['help']:
  <span class="help" id="{{q['help_id']}}">{{q['help']}}</span>
% end
% if q['hint']:
  <span class="hint" id="{{q['hint_id']}}">{{q['hint']}}</span>
% end
% if q['error']:
  <p class="error" id="{{q['error_id']}}">{{q['error']}}</p>
% end
  <input type="text" class="field" id="{{q['anchor']}}" name="{{q['id']}}" value="{{q['value']}}" list="{{q['anchor']}}-list" autocomplete="off"\\
% if q['described']:
 aria-describedby="{{q['described']}}"\\
% end
% if q['error']:
 aria-invalid="true"\\
% end
>
  <datalist id="{{q['anchor']}}-list">
% for suggestion in q['suggestions']:
    <option value="{{suggestion}}"></option>
% end
  </datalist>
</div>
