%# A number: a text box with the phone's number keyboard (inputmode), so a value
%# typed in another form (full-width digits, a comma) reaches the server's check.
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
  <input type="text" class="field number" id="{{q['anchor']}}" name="{{q['id']}}" value="{{q['value']}}" inputmode="{{q['inputmode']}}" autocomplete="off"\\
% if q['described']:
 aria-describedby="{{q['described']}}"\\
% end
% if q['error']:
 aria-invalid="true"\\
% end
>
</div>
