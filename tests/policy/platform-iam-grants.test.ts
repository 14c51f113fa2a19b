import { describe, expect, it } from "vitest";
import { iamGrants } from "../../platform/policy/policies";
import { DEFAULT_ALLOWED_ROLES, isIamType } from "../../platform/policy/policies/iam-grants";
import { judge, platformEnforcement } from "./platform-fixtures";

type Grant = Record<string, unknown>;
const SECRET = "gcp:secretmanager/secretIamMember:SecretIamMember";
const BUCKET = "gcp:storage/bucketIAMMember:BucketIAMMember";
const REPO = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember";
const WORKLOAD = "gcp:serviceaccount/iAMMember:IAMMember";
const PROJECT = "gcp:projects/iAMMember:IAMMember";

describe("nova-platform-iam-grants", () => {
  it.each(Object.keys(DEFAULT_ALLOWED_ROLES))(
    "passes the grant the platform registers as %s",
    async (type) => {
      expect((await judge(iamGrants, type)).messages).toEqual([]);
    },
  );

  it("accepts the registry writer role", async () => {
    const out = await judge<Grant>(iamGrants, REPO, (g) => (g["role"] = "roles/artifactregistry.writer"));
    expect(out.messages).toEqual([]);
  });

  describe.each<[string, string, (g: Grant) => void, RegExp]>([
    [
      "a secret readable by allUsers",
      SECRET,
      (g) => (g["member"] = "allUsers"),
      /grants to allUsers; platform resources are never public/,
    ],
    [
      "a bucket writable by allAuthenticatedUsers",
      BUCKET,
      (g) => (g["member"] = "allAuthenticatedUsers"),
      /grants to allAuthenticatedUsers/,
    ],
    ["a public registry", REPO, (g) => (g["member"] = "allUsers"), /grants to allUsers/],
    [
      "a secret admin instead of accessor",
      SECRET,
      (g) => (g["role"] = "roles/secretmanager.admin"),
      /role is "roles\/secretmanager\.admin"; this resource may grant only roles\/secretmanager\.secretAccessor/,
    ],
    [
      "a bucket reader (dumps are create-only)",
      BUCKET,
      (g) => (g["role"] = "roles/storage.objectViewer"),
      /may grant only roles\/storage\.objectCreator/,
    ],
    ["a project owner", PROJECT, (g) => (g["role"] = "roles/owner"), /role is "roles\/owner"/],
    [
      "Workload Identity for every service account of a namespace",
      WORKLOAD,
      (g) =>
        (g["member"] =
          "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/nova-prod.svc.id.goog/namespace/nova-prod"),
      /workloadIdentityUser goes only to one Kubernetes service account/,
    ],
    [
      "a person impersonating the workloads' account",
      WORKLOAD,
      (g) => (g["role"] = "roles/iam.serviceAccountTokenCreator"),
      /may grant only roles\/iam\.workloadIdentityUser/,
    ],
  ])("blocks %s", (_label, type, mutate, expected) => {
    it("reports it with the fix", async () => {
      const out = await judge<Grant>(iamGrants, type, mutate);
      expect(out.messages).toEqual([expect.stringMatching(/^IAM grant nova-platform-fixture \(gcp:/)]);
      expect(out.messages[0]).toMatch(expected);
      expect(out.messages[0]).toMatch(/Fix: grant through the platform components/);
    });
  });

  it("blocks an authoritative binding, and names a public member in it", async () => {
    const binding = await judge(
      iamGrants,
      "gcp:secretmanager/secretIamBinding:SecretIamBinding",
      () => undefined,
      {},
    );
    expect(binding.messages).toEqual([expect.stringMatching(/is not a grant the platform makes/)]);
    const out = await judge<Grant>(iamGrants, "gcp:storage/bucketIAMBinding:BucketIAMBinding", (g) => {
      g["role"] = "roles/storage.objectViewer";
      g["members"] = ["allUsers"];
    });
    expect(out.messages[0]).toMatch(/grants to allUsers; .*is not a grant the platform makes/);
  });

  it("finds a public member inside an IAM policy document", async () => {
    const out = await judge<Grant>(iamGrants, "gcp:storage/bucketIAMPolicy:BucketIAMPolicy", (g) => {
      g["policyData"] = JSON.stringify({
        bindings: [{ role: "roles/storage.objectViewer", members: ["allUsers"] }],
      });
    });
    expect(out.messages[0]).toMatch(/grants to allUsers/);
  });

  it("recognises IAM types by pattern and nothing else", () => {
    expect(isIamType("gcp:compute/instanceIAMMember:InstanceIAMMember")).toBe(true);
    expect(isIamType("gcp:secretmanager/secret:Secret")).toBe(false);
    expect(isIamType("gcp:serviceaccount/account:Account")).toBe(false);
  });

  it("is mandatory on platform-production and advisory on platform-sandbox", () => {
    expect(platformEnforcement(iamGrants, "platform-production")).toBe("mandatory");
    expect(platformEnforcement(iamGrants, "platform-sandbox")).toBe("advisory");
  });
});
