// The card page's "Share your link" button: the phone's own share sheet
// (Web Share API) where it has one, otherwise the link is copied. Perk
// never sends the link itself: the member chooses whom to share it with.
// Without script the link is still on the page to copy by hand.
(function () {
  var btn = document.getElementById("share");
  if (!btn) return;
  var url = btn.getAttribute("data-url");
  var status = document.getElementById("share-status");
  function said(text) { if (status) status.textContent = text; }
  function counted(how) {
    // For the report: the button was used (not who the link went to).
    var form = new FormData();
    form.append("how", how);
    fetch(btn.getAttribute("data-count"), { method: "POST", body: form, credentials: "same-origin" }).catch(function () {});
  }
  btn.hidden = false;
  btn.addEventListener("click", function () {
    if (navigator.share) {
      navigator.share({ title: document.title, text: btn.getAttribute("data-text"), url: url })
        .then(function () { counted("share"); said("Thanks for sharing."); })
        .catch(function () {});
      return;
    }
    var done = function () { counted("copy"); said("Link copied. Paste it into a message to your friend."); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(done, function () {
        document.getElementById("referral-link").select();
        said("Select the link above and copy it.");
      });
    } else {
      document.getElementById("referral-link").select();
      said("Select the link above and copy it.");
    }
  });
})();
