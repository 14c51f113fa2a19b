import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { passwordForms, splitConnection } from "../../../src/util/pg-connection";
import { REDACTED, redactor } from "../../../src/verify/probe";

describe("splitConnection", () => {
  it.each([
    ["userinfo", "postgres://nova:s3cr%40t@db:5432/nova", "postgres://nova@db:5432/nova", "s3cr@t"],
    [
      "postgresql scheme, query kept",
      "postgresql://u:pw12@h/d?sslmode=require",
      "postgresql://u@h/d?sslmode=require",
      "pw12",
    ],
    [
      "password parameter wins",
      "postgres://u:first@h/d?password=second&x=1",
      "postgres://u@h/d?x=1",
      "second",
    ],
    ["only a password parameter", "postgres://h/d?password=p%26w", "postgres://h/d", "p&w"],
    ["user without a password", "postgres://nova@db/nova", "postgres://nova@db/nova", undefined],
    ["empty password", "postgres://nova:@db/nova", "postgres://nova@db/nova", undefined],
    ["several hosts", "postgres://u:pass@a:1,b:2/d", "postgres://u@a:1,b:2/d", "pass"],
    ["keyword/value", "host=db password=hunter2 dbname=nova", "host=db dbname=nova", "hunter2"],
    ["keyword/value quoted", "host=db password='a b\\'c' dbname=nova", "host=db dbname=nova", "a b'c"],
    ["not a connection string", "just text", "just text", undefined],
  ])("%s", (_name, input, connection, password) => {
    const split = splitConnection(input);
    expect(split.connection).toBe(connection);
    expect(split.password).toBe(password);
  });

  it("never leaves the decoded password in the connection string", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 6, maxLength: 20 }), (pw) => {
        const split = splitConnection(`postgres://nova:${encodeURIComponent(pw)}@db/nova`);
        expect(split.password).toBe(pw);
        expect(split.connection).toBe("postgres://nova@db/nova");
      }),
      { numRuns: 100 },
    );
  });
});

describe("redactor: a connection string's password alone", () => {
  const url = "postgres://nova:p%40ss%20w%2Frd@db/nova";
  it.each([
    ["the whole URL", `connecting to ${url}`, `connecting to ${REDACTED}`],
    ["the password decoded", "password p@ss w/rd rejected", `password ${REDACTED} rejected`],
    ["the password as written in the URL", 'invalid URI "p%40ss%20w%2Frd"', `invalid URI "${REDACTED}"`],
    ["the password percent-encoded", "p%40ss%20w%2Frd", REDACTED],
  ])("%s", (_name, text, expected) => {
    expect(redactor([url])(text)).toBe(expected);
  });

  it("a query-parameter password encoded with + for spaces", () => {
    const redact = redactor(["postgresql://db/nova?password=two+words"]);
    expect(redact("got two words and two+words")).toBe(`got ${REDACTED} and ${REDACTED}`);
  });

  it("keeps a password too short to redact on its own (the URL is still redacted)", () => {
    expect(passwordForms("postgres://u:pw@h/d")).toEqual(["pw"]);
    expect(redactor(["postgres://u:pw@h/d"])("pw postgres://u:pw@h/d")).toBe(`pw ${REDACTED}`);
  });
});
