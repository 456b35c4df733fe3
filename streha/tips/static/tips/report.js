// Proof-of-work for the anonymous report: find a nonce so that SHA-256(challenge:nonce) starts
// with `bits` zero bits. Costs a person a second, a spam robot a lot. No data leaves the page.
(function () {
  "use strict";
  // A refused report: move the focus to the summary that says what to fix.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  var form = document.getElementById("report-form");
  if (!form) { return; }
  if (!window.crypto || !window.crypto.subtle || !window.TextEncoder) {
    // No SHA-256 here (old browser, or a page not served over HTTPS): the server then asks
    // for the longer minimum time instead; say so.
    var note = document.getElementById("slow-note");
    if (note) { note.hidden = false; }
    return;
  }
  var challenge = form.getAttribute("data-challenge");
  var bits = parseInt(form.getAttribute("data-bits"), 10) || 0;
  var nonceField = document.getElementById("nonce");
  var encoder = new TextEncoder();
  function zeroBits(bytes) {
    var count = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { count += 8; continue; }
      var b = bytes[i];
      while ((b & 0x80) === 0) { count++; b <<= 1; }
      return count;
    }
    return count;
  }
  function search(nonce) {
    return crypto.subtle.digest("SHA-256", encoder.encode(challenge + ":" + nonce)).then(function (d) {
      return zeroBits(new Uint8Array(d)) >= bits ? String(nonce) : search(nonce + 1);
    });
  }
  var solved = null;
  var work = search(0).then(function (nonce) { solved = nonce; nonceField.value = nonce; });
  form.addEventListener("submit", function (event) {
    if (solved !== null) { return; }
    event.preventDefault();
    var status = document.getElementById("status");
    if (status) { status.textContent = "…"; }
    work.then(function () { form.submit(); });
  });
})();
