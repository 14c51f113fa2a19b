import { afterEach, describe, expect, it, vi } from "vitest";
import { type FetchFn, main, parseWorkflowRef, setWorkflowState } from "../../../src/ci/schedules";

const API = "https://api.github.example";
const REF = parseWorkflowRef("nova-rms/nova-rms:billing-drill-production.yml");
const WORKFLOW = `${API}/repos/nova-rms/nova-rms/actions/workflows/billing-drill-production.yml`;

/** A GitHub API over `states` (file → state) that records every call and refuses with `refuse` when set. */
function fakeGithub(states: Record<string, string>, refuse?: number) {
  const calls: { method: string; url: string; authorization?: string }[] = [];
  const fetchFn: FetchFn = (url, init) => {
    calls.push({ method: init.method, url, authorization: init.headers["Authorization"] });
    const file = decodeURIComponent(
      url
        .replace(/\/(enable|disable)$/, "")
        .split("/")
        .at(-1) ?? "",
    );
    const answer = (status: number, body: unknown = {}) =>
      Promise.resolve({ status, json: () => Promise.resolve(body) });
    if (refuse !== undefined) return answer(refuse, { message: "refused" });
    if (!(file in states)) return answer(404, { message: "Not Found" });
    if (init.method === "GET")
      return answer(200, { id: 7, path: `.github/workflows/${file}`, state: states[file] });
    states[file] = url.endsWith("/enable") ? "active" : "disabled_manually";
    return answer(204);
  };
  return { calls, fetchFn, states };
}

afterEach(() => vi.restoreAllMocks());

describe("CI schedules through the GitHub API", () => {
  it("reads owner/repo:workflow.yml and nothing else", () => {
    expect(REF).toEqual({
      owner: "nova-rms",
      repo: "nova-rms",
      file: "billing-drill-production.yml",
      text: "nova-rms/nova-rms:billing-drill-production.yml",
    });
    for (const bad of ["nova-rms:x.yml", "a/b:c.txt", "a/b/c:d.yml", "a/b:", "a/b:../x.yml"])
      expect(parseWorkflowRef(bad), bad).toBeUndefined();
  });

  it("disables an active workflow and enables it again, with the token as a bearer", async () => {
    const gh = fakeGithub({ "billing-drill-production.yml": "active" });
    const o = { api: `${API}/`, token: "t0ken", dryRun: false, fetch: gh.fetchFn };
    expect(await setWorkflowState(REF!, false, o)).toBe(
      "nova-rms/nova-rms:billing-drill-production.yml: disabled (was active)",
    );
    expect(gh.states["billing-drill-production.yml"]).toBe("disabled_manually");
    expect(await setWorkflowState(REF!, true, o)).toBe(
      "nova-rms/nova-rms:billing-drill-production.yml: enabled (was disabled_manually)",
    );
    expect(gh.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      `GET ${WORKFLOW}`,
      `PUT ${WORKFLOW}/disable`,
      `GET ${WORKFLOW}`,
      `PUT ${WORKFLOW}/enable`,
    ]);
    expect(gh.calls.every((c) => c.authorization === "Bearer t0ken")).toBe(true);
  });

  it("leaves a workflow already in the wanted state alone, and a dry run changes nothing", async () => {
    const gh = fakeGithub({ "billing-drill-production.yml": "disabled_manually" });
    const o = { api: API, token: "t", dryRun: false, fetch: gh.fetchFn };
    expect(await setWorkflowState(REF!, false, o)).toMatch(/already disabled_manually, left as is$/);
    expect(await setWorkflowState(REF!, true, { ...o, dryRun: true })).toBe(
      "nova-rms/nova-rms:billing-drill-production.yml: would enable (now disabled_manually); dry run, nothing changed",
    );
    expect(gh.calls.map((c) => c.method)).toEqual(["GET", "GET"]);
  });

  it.each([
    [401, /GitHub refused the token \(401\)/],
    [403, /may not write the Actions of nova-rms\/nova-rms \(403\): give it actions: write/],
    [404, /has no workflow billing-drill-production\.yml, or the token cannot see the repository/],
  ])("says what a %i means", async (status, message) => {
    const gh = fakeGithub({ "billing-drill-production.yml": "active" }, status);
    await expect(
      setWorkflowState(REF!, false, { api: API, token: "t", dryRun: false, fetch: gh.fetchFn }),
    ).rejects.toThrow(message);
  });

  it("the command line: every workflow tried, exit 1 when one failed, the token never printed", async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((s) => (out.push(String(s)), true));
    const gh = fakeGithub({ "a.yml": "active" });
    const code = await main(
      ["disable", "--api", API, "o/r:missing.yml", "o/r:a.yml"],
      { GITHUB_TOKEN: "sekrit-token" },
      gh.fetchFn,
    );
    expect(code).toBe(1);
    expect(gh.states["a.yml"]).toBe("disabled_manually");
    expect(out.join("")).toContain("o/r:missing.yml: reading its state: o/r has no workflow missing.yml");
    expect(out.join("")).not.toContain("sekrit-token");
  });

  it("refuses to run without a token (except a dry run), and names a malformed workflow", async () => {
    const err: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    vi.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
    const gh = fakeGithub({ "a.yml": "active" });
    expect(await main(["disable", "--api", API, "o/r:a.yml"], {}, gh.fetchFn)).toBe(1);
    expect(err.join("")).toContain("GITHUB_TOKEN is not set");
    expect(gh.calls).toEqual([]);
    expect(await main(["disable", "--api", API, "--dry-run", "o/r:a.yml"], {}, gh.fetchFn)).toBe(0);
    expect(gh.calls[0]?.authorization).toBeUndefined();
    expect(gh.states["a.yml"]).toBe("active");
    expect(await main(["disable", "--api", API, "o/r"], { GH_TOKEN: "t" }, gh.fetchFn)).toBe(2);
    expect(err.join("")).toContain("not owner/repo:workflow.yml: o/r");
    expect(await main(["pause", "--api", API], { GH_TOKEN: "t" }, gh.fetchFn)).toBe(2);
  });
});
