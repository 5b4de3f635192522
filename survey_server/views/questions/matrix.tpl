%# A matrix: one group per row (each its own legend, so a screen reader names the row),
%# rows stacked so that a phone shows every point of the scale at full size.
<fieldset id="{{q['anchor']}}" class="matrix {{'invalid' if q['error'] else ''}}"\\
% if q['described']:
 aria-describedby="{{q['described']}}"\\
% end
>
% include('questions/legend.tpl')
% for row in q['rows']:
  <fieldset class="row" id="{{row['anchor']}}">
    <legend>{{row['label']}}</legend>
%   include('questions/options.tpl', name=row['name'], choices=row['choices'], input_type='radio', layout='scale')
  </fieldset>
% end
</fieldset>
