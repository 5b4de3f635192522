%# A text question: a labelled text area.
<div class="question{{' invalid' if q['error'] else ''}}">
  <label for="{{q['anchor']}}">{{q['label']}}\\
% if q['required']:
<span class="req">({{required_text}})</span>\\
% end
</label>
% if q['help']:
  <span class="help" id="{{q['help_id']}}">{{q['help']}}</span>
% end
% if q['error']:
  <p class="error" id="{{q['error_id']}}">{{q['error']}}</p>
% end
  <textarea id="{{q['anchor']}}" name="{{q['id']}}" maxlength="{{q['maxlength']}}"\\
% if q['described']:
 aria-describedby="{{q['described']}}"\\
% end
% if q['error']:
 aria-invalid="true"\\
% end
>{{q['value']}}</textarea>
</div>
