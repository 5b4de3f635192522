%# Radio buttons or check boxes named `name`: a scale's points or a list's options.
  <div class="choices {{layout}}">
% for choice in choices:
    <label class="choice" for="{{choice['input_id']}}"><input type="{{input_type}}" id="{{choice['input_id']}}" name="{{name}}" value="{{choice['value']}}"{{!' checked' if choice['checked'] else ''}}>\\
%   if choice['label'] != choice['value'] or layout == 'list':
<span>{{choice['label']}}</span>\\
%   else:
{{choice['label']}}\\
%   end
</label>
% end
  </div>
