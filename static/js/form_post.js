// Posts the authorization response (OAuth 2.0 Form Post Response Mode) to
// the client as soon as the page is read. A file, not an inline handler,
// so that the page keeps the strict Content-Security-Policy; without
// JavaScript the visitor presses Continue.
"use strict";
document.getElementById("form-post").submit();
