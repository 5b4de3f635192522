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
%   include('questions/' + q['template'] + '.tpl', q=q, required_text=required_text)
% end
<button type="submit">{{button}}</button>
</form>
% if resume_hint:
<p class="hint">{{resume_hint}}</p>
% end
