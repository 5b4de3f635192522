<!DOCTYPE html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{title}} – {{t('portal_name')}}</title>
<style>
*{box-sizing:border-box}
body{margin:0;font:16px/1.6 system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",sans-serif;color:#1b1b1b;background:#f6f6f4}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.5rem 1rem;background:#fff;border-bottom:1px solid #ddd}
header .name{font-weight:600}
header form{margin:0}
main{max-width:52rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;line-height:1.3;margin:.5rem 0 1rem}
h2{font-size:1.15rem}
a{color:#1a5fb4}
a:focus,button:focus,input:focus{outline:3px solid #f5c211;outline-offset:2px}
.panel{background:#fff;padding:1rem;border-radius:.5rem;box-shadow:0 1px 2px rgba(0,0,0,.08);margin-bottom:1rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=email],input[type=password],input[type=text],input[type=number],select{width:100%;font:inherit;min-height:2.75rem;padding:.4rem .6rem;border:1px solid #888;border-radius:.4rem}
button{font:inherit;font-weight:600;min-height:2.75rem;padding:.25rem 1rem;border:0;border-radius:.5rem;background:#1a5fb4;color:#fff;cursor:pointer}
.wide{width:100%;margin-top:1rem}
.link-button{background:none;color:#1a5fb4;text-decoration:underline;padding:.25rem .5rem}
.error{border:3px solid #b00020;background:#fff;color:#b00020;font-weight:600;padding:.75rem 1rem;border-radius:.5rem}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #ddd;vertical-align:top}
td.number,th.number{text-align:right}
.muted{color:#555}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:36rem){
 table,tbody,tr,td{display:block;width:100%}
 thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
 tr{border-bottom:1px solid #ddd;padding:.5rem 0}
 td{border:0;padding:.15rem .5rem}
 td.number{text-align:left}
 td[data-label]::before{content:attr(data-label) ": ";color:#555}
}
</style>
</head>
<body>
<header>
<span class="name">{{t('portal_name')}}</span>
% for code, name, url in language_links:
<a href="{{url}}" lang="{{code}}" hreflang="{{code}}">{{name}}</a>
% end
% if defined('csrf_token') and csrf_token:
<form method="post" action="{{logout_url}}">
<input type="hidden" name="csrf_token" value="{{csrf_token}}">
<button type="submit" class="link-button">{{t('logout')}}</button>
</form>
% end
</header>
<main id="main">
{{!base}}
</main>
</body>
</html>
