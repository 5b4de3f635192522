<!DOCTYPE html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{title}}</title>
<style>
*{box-sizing:border-box}
body{margin:0;font:16px/1.6 system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",sans-serif;color:#1b1b1b;background:#f6f6f4}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;line-height:1.3;margin:.5rem 0 1rem}
h2{font-size:1.15rem}
.intro{color:#444}
.progress{margin:0 0 1rem;color:#444;font-size:.9rem}
.progress progress{width:100%;height:.6rem}
fieldset,.question{border:0;margin:0 0 1rem;padding:1rem;background:#fff;border-radius:.5rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}
legend,.question>label{font-weight:600;padding:0;float:left;width:100%;margin-bottom:.5rem}
legend+*{clear:both}
.req{color:#b00020;font-weight:400;font-size:.85rem;margin-left:.25rem}
.help,.hint{display:block;color:#555;font-size:.9rem;font-weight:400}
.choices{display:flex;flex-wrap:wrap;gap:.4rem;clear:both}
.choices.list{flex-direction:column}
.choice{display:flex;align-items:center;gap:.5rem;min-height:2.75rem;padding:.25rem .6rem;border:1px solid #bbb;border-radius:.4rem;background:#fff;cursor:pointer}
.scale .choice{min-width:2.75rem;justify-content:center;padding:.25rem}
.scale .choice input{margin:0}
.choice input{width:1.2rem;height:1.2rem}
.choice:focus-within{outline:3px solid #1a5fb4;outline-offset:1px}
textarea{width:100%;min-height:6rem;font:inherit;padding:.5rem;border:1px solid #888;border-radius:.4rem}
input.field{width:100%;min-height:2.75rem;font:inherit;padding:.5rem;border:1px solid #888;border-radius:.4rem;background:#fff}
input.number{max-width:12rem}
fieldset.row{box-shadow:none;border-radius:0;margin:0;padding:.75rem 0 .25rem;border-top:1px solid #ddd}
fieldset.row legend{font-weight:400;margin-bottom:.25rem}
.invalid{box-shadow:0 0 0 2px #b00020}
.error{color:#b00020;font-weight:600;margin:.25rem 0 .5rem;clear:both}
.error-summary{border:3px solid #b00020;background:#fff;padding:.75rem 1rem;margin-bottom:1rem;border-radius:.5rem}
.error-summary a{color:#b00020}
button{font:inherit;font-weight:600;width:100%;min-height:3rem;border:0;border-radius:.5rem;background:#1a5fb4;color:#fff;cursor:pointer}
button:focus{outline:3px solid #f5c211;outline-offset:2px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.notice{background:#fff;padding:1rem;border-radius:.5rem}
</style>
</head>
<body>
<main>
{{!base}}
</main>
</body>
</html>
