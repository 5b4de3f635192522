% rebase('layout.tpl', title=title, lang=lang)
<h1>{{title}}</h1>
<div class="notice" role="status">
<p>{{message}}</p>
<form method="post" action="{{action}}">
<button type="submit">{{button}}</button>
</form>
</div>
