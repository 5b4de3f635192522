%# nps, rating, single and multi: one group of radio buttons or check boxes.
<fieldset id="{{q['anchor']}}" class="{{'invalid' if q['error'] else ''}}"\\
% if q['described']:
 aria-describedby="{{q['described']}}"\\
% end
>
% include('questions/legend.tpl')
% include('questions/options.tpl', name=q['id'], choices=q['choices'], input_type=q['input_type'], layout=q['layout'])
</fieldset>
