% rebase('portal_layout.tpl', title=t('login_title'), lang=lang, t=t, language_links=language_links)
<h1>{{t('login_title')}}</h1>
% if error:
<p class="error" role="alert" id="login-error">{{error}}</p>
% end
<form method="post" action="{{action}}" class="panel">
<input type="hidden" name="csrf_token" value="{{login_token}}">
<label for="email">{{t('email')}}</label>
<input type="email" id="email" name="email" value="{{email}}" autocomplete="username" required maxlength="320"\\
% if error:
 aria-describedby="login-error" aria-invalid="true"\\
% end
 autofocus>
<label for="password">{{t('password')}}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required maxlength="1000"\\
% if error:
 aria-describedby="login-error" aria-invalid="true"\\
% end
>
<button type="submit" class="wide">{{t('login_button')}}</button>
</form>
