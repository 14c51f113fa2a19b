// Shared by the sandbox's small servers (stand-ins, token realm, registry front).

/** The value of a required environment variable; the server exits (2) naming it when it is unset. */
export function requiredEnv(server, name) {
  const v = process.env[name];
  if (v === undefined || v === "") {
    console.error(`${server}: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

/** The body of an incoming request as text. */
export function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
