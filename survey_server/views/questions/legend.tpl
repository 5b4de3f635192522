%# The legend, error and hint every fieldset question starts with.
  <legend>{{q['label']}}\\
% if q['required']:
<span class="req">({{required_text}})</span>\\
% end
% if q['help']:
<span class="help" id="{{q['help_id']}}">{{q['help']}}</span>\\
% end
</legend>
% if q['error']:
  <p class="error" id="{{q['error_id']}}">{{q['error']}}</p>
% end
% if q['hint']:
  <span class="hint" id="{{q['hint_id']}}">{{q['hint']}}</span>
% end
