% rebase('layout.tpl', title=title, lang=lang)
<h1>{{title}}</h1>
<div class="notice" role="status">
<p>{{message}}</p>
% if link:
<p><a href="{{link}}">{{link_text}}</a></p>
% end
</div>
