import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dumpLocation, dumpScript, rehearsalScript } from "../../../components/database-scripts";
import { kebab, shellQuote, shortHash } from "../../../components/naming";
import { joinUrl, probeCommand } from "../../../components/probe-command";

describe("shellQuote", () => {
  it("survives the shell for any string", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }).filter((s) => !s.includes("\u0000")),
        (value) => {
          const echoed = execFileSync("/bin/sh", ["-c", `printf '%s' ${shellQuote(value)}`], {
            encoding: "utf8",
          });
          expect(echoed).toBe(value);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("naming helpers", () => {
  it.each([
    ["databaseUrl", "database-url"],
    ["jwtSigningKey", "jwt-signing-key"],
    ["Billing API key", "billing-api-key"],
  ])("kebab(%s) = %s", (input, output) => expect(kebab(input)).toBe(output));

  it("hashes part lists without ambiguity between boundaries", () => {
    expect(shortHash(["ab", "c"])).not.toBe(shortHash(["a", "bc"]));
    expect(shortHash(["x"], 12)).toMatch(/^[a-f0-9]{12}$/);
  });

  it.each([
    ["https://a/", "/v1/health", "https://a/v1/health"],
    ["https://a", "v1/health", "https://a/v1/health"],
    ["http://w:3001//", "//readyz", "http://w:3001/readyz"],
  ])("joinUrl(%s, %s)", (base, p, url) => expect(joinUrl(base, p)).toBe(url));
});

describe("database scripts", () => {
  it("names the dump after stack, release and id", () => {
    expect(dumpLocation("gs://b/p/", "production", "2026.11.3", "abc")).toBe(
      "gs://b/p/production-2026.11.3-abc.dump",
    );
  });

  it("streams a gs:// dump through gcloud and writes a local one atomically", () => {
    expect(dumpScript("gs://b/x.dump")).toContain(
      'pg_dump --format=custom --no-owner --dbname="$DATABASE_URL" | gcloud storage cp - gs://b/x.dump',
    );
    const local = dumpScript("/backups/x.dump");
    expect(local).toContain("--file=/backups/x.dump.partial");
    expect(local).toContain("mv /backups/x.dump.partial /backups/x.dump");
  });

  it("restores into the rehearsal database before migrating it", () => {
    const script = rehearsalScript("/backups/x.dump", "npm run migrate");
    const restore = script.indexOf("pg_restore");
    const repoint = script.indexOf('DATABASE_URL="$REHEARSAL_DATABASE_URL"');
    const migrate = script.indexOf("npm run migrate");
    expect(restore).toBeGreaterThan(0);
    expect(repoint).toBeGreaterThan(restore);
    expect(migrate).toBeGreaterThan(repoint);
  });

  it("is valid shell", () => {
    for (const script of [
      dumpScript("/b/x.dump"),
      dumpScript("gs://b/x"),
      rehearsalScript("gs://b/x", "true"),
    ]) {
      expect(() => execFileSync("/bin/sh", ["-n", "-c", script])).not.toThrow();
    }
  });
});

describe("probeCommand", () => {
  it("quotes arguments and passes the budget", () => {
    expect(
      probeCommand(
        "/r e/probe.js",
        "alerts-quiet",
        { kind: "alerts", url: "http://am:9093" },
        { attempts: 3, timeoutSeconds: 5, backoffMs: 100 },
      ),
    ).toBe(
      "node '/r e/probe.js' alerts --name alerts-quiet --url http://am:9093 --attempts 3 --timeout 5 --backoff-ms 100",
    );
  });
});
