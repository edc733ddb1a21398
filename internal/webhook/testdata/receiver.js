// A webhook receiver that checks every request with the npm package
// standardwebhooks (an implementation of the Standard Webhooks spec
// independent of Perk's), as a CRM would. The secret comes from WH_SECRET.
// It prints its port, then one JSON line per request: {"id", "ok", "error",
// "type"}; it answers 204 when the signature verifies and 401 otherwise.
"use strict";
const http = require("http");
const { Webhook } = require("standardwebhooks");

const wh = new Webhook(process.env.WH_SECRET);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const out = { id: req.headers["webhook-id"] || "", ok: false };
    try {
      const payload = wh.verify(body, req.headers);
      out.ok = true;
      out.type = payload.type;
    } catch (e) {
      out.error = e.message;
    }
    process.stdout.write(JSON.stringify(out) + "\n");
    res.writeHead(out.ok ? 204 : 401);
    res.end();
  });
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(server.address().port + "\n");
});
process.stdin.on("end", () => process.exit(0)); // the test closes stdin to stop it
process.stdin.resume();
