/* perk.js: Perk's first-party event script (docs/events.md). It talks only to
   the Perk host it was loaded from; no third-party hosts, no dependencies.
   <script src="https://perk.example/perk.js" data-key="perk_..._..." async></script>
   Optional: data-cookie-domain=".example.com" so Perk's links on a sibling
   host see the same anonymous id; data-auto="off" to skip the page view. */
(function (w, d) {
  "use strict";
  var s = d.currentScript, key = s && s.getAttribute("data-key");
  if (!key || (w.perk && w.perk.anonymousId)) return;
  var endpoint = new URL(s.src).origin + "/v1/events?write_key=" + encodeURIComponent(key);
  var domain = s.getAttribute("data-cookie-domain");
  var COOKIE = "perk_aid", queue = [], timer = 0;

  function rid() {
    var a = new Uint8Array(16), out = "";
    crypto.getRandomValues(a);
    for (var i = 0; i < a.length; i++) out += (a[i] + 256).toString(16).slice(1);
    return out;
  }
  function readCookie() {
    var m = d.cookie.match(/(?:^|; )perk_aid=([0-9a-f]{32})/);
    return m ? m[1] : "";
  }
  var aid = readCookie() || rid();
  // First-party, renewed on every page: about 400 days, browsers' cap.
  d.cookie = COOKIE + "=" + aid + "; path=/; max-age=34560000; SameSite=Lax" +
    (domain ? "; domain=" + domain : "") + (location.protocol === "https:" ? "; Secure" : "");

  function send() {
    clearTimeout(timer);
    timer = 0;
    while (queue.length) {
      var body = JSON.stringify({ events: queue.splice(0, 100) });
      // text/plain: a "simple" request, so no CORS preflight is needed.
      var blob = new Blob([body], { type: "text/plain" });
      if (!(navigator.sendBeacon && navigator.sendBeacon(endpoint, blob))) {
        fetch(endpoint, { method: "POST", body: body, keepalive: true, headers: { "Content-Type": "text/plain" } });
      }
    }
  }
  function track(type, props) {
    queue.push({
      event_id: rid(), type: type, time: new Date().toISOString(), channel: "web",
      anonymous_id: aid, properties: props || {}
    });
    if (!timer) timer = setTimeout(send, 1000);
  }
  // identify ties this browser to a member: Perk moves its earlier
  // anonymous events to the member. It takes an identify token Perk issued
  // (a tracked link adds one to the page's URL as perk_it; the card page
  // has one in data-perk-identify), since a public key may not name a
  // member on its own word.
  function identify(token) {
    queue.push({
      event_id: rid(), type: "identified", time: new Date().toISOString(), channel: "web",
      anonymous_id: aid, identify_token: String(token), properties: {}
    });
    send();
  }
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") send(); });
  w.addEventListener("pagehide", send);

  var early = (w.perk && w.perk.q) || [];
  w.perk = { track: track, identify: identify, flush: send, anonymousId: function () { return aid; } };
  if (s.getAttribute("data-auto") !== "off") {
    var props = { url: location.href, path: location.pathname, title: d.title, referrer: d.referrer };
    var campaign = new URLSearchParams(location.search).get("utm_campaign");
    if (campaign) props.campaign = campaign;
    track("page_viewed", props);
  }
  // A token Perk put on this page: identify once, and take it out of the
  // address bar so it is not bookmarked or shared.
  var params = new URLSearchParams(location.search), token = params.get("perk_it");
  var holder = d.querySelector("[data-perk-identify]");
  if (!token && holder) token = holder.getAttribute("data-perk-identify");
  if (token) {
    identify(token);
    if (params.has("perk_it") && history.replaceState) {
      params.delete("perk_it");
      var rest = params.toString();
      history.replaceState(history.state, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
    }
  }
  for (var i = 0; i < early.length; i++) w.perk[early[i][0]].apply(null, early[i][1]);
})(window, document);
