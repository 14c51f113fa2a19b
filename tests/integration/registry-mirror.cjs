// Preloaded (`node --require`) into a CLI run by the integration tests: requests to the production registry host are
// sent to the sandbox registry instead, as a DNS override would. NOVA_IT_REGISTRY_MIRROR="<from-prefix> <to-prefix>".
"use strict";
const spec = (process.env.NOVA_IT_REGISTRY_MIRROR || "").split(" ");
const from = spec[0];
const to = spec[1];
if (from && to) {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    return original(url.startsWith(from) ? to + url.slice(from.length) : input, init);
  };
}
