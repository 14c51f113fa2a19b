import * as pulumi from "@pulumi/pulumi";

/** A resource the program registered under mocks: type token, logical name, inputs and options we care about. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly id: string;
  /** Logical names of the resources this one depends on (from the registration's dependency list). */
  readonly dependsOn: string[];
}

export interface RecordedCall {
  readonly token: string;
  readonly inputs: Record<string, unknown>;
}

export interface MockState {
  readonly resources: RecordedResource[];
  readonly calls: RecordedCall[];
  /** Resources of one type token. */
  byType(type: string): RecordedResource[];
  /** The one resource with this logical name (throws if absent, so a missing child fails the test). */
  named(name: string): RecordedResource;
}

export interface MockOptions {
  /** Answers for invokes, by token. */
  readonly calls?: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>;
  /** Extra outputs for resources, by type token. */
  readonly outputs?: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>;
  readonly project?: string;
  readonly stack?: string;
  readonly preview?: boolean;
}

/** Installs Pulumi mocks that record every resource and invoke. Call before importing the code under test. */
export function installMocks(options: MockOptions = {}): MockState {
  const resources: RecordedResource[] = [];
  const calls: RecordedCall[] = [];
  const dependencies = new Map<string, string[]>();
  void pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const id = `${args.name}-id`;
        const inputs = args.inputs as Record<string, unknown>;
        resources.push({
          type: args.type,
          name: args.name,
          inputs,
          id,
          dependsOn: dependencies.get(args.name) ?? [],
        });
        const extra = options.outputs?.[args.type]?.(inputs) ?? defaultOutputs(args.type, inputs);
        return { id, state: { ...inputs, ...extra } };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        const inputs = args.inputs as Record<string, unknown>;
        calls.push({ token: args.token, inputs });
        const answer = options.calls?.[args.token];
        if (answer === undefined) throw new Error(`unexpected invoke ${args.token}`);
        return answer(inputs);
      },
    },
    options.project ?? "nova-rollout",
    options.stack ?? "test",
    options.preview ?? false,
  );
  // The mocks' newResource does not see dependencies; the monitor's request does. Record them by logical name.
  type Req = { getName(): string; getDependenciesList(): string[] };
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: Req, cb: unknown): Promise<unknown>;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    dependencies.set(
      req.getName(),
      req.getDependenciesList().map((urn) => urn.split("::").pop() ?? urn),
    );
    return register(req, cb);
  };
  return {
    resources,
    calls,
    byType: (type) => resources.filter((r) => r.type === type),
    named(name) {
      const found = resources.filter((r) => r.name === name);
      if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
      return found[0] as RecordedResource;
    },
  };
}

function defaultOutputs(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "command:local:Command":
      return {
        stdout: JSON.stringify({ check: "mock", ok: true, attempts: 1, elapsedMs: 1, detail: "mock" }),
        stderr: "",
      };
    case "kubernetes:helm.sh/v4:Chart":
      return { resources: [] };
    case "gcp:container/cluster:Cluster":
      return { endpoint: "10.0.0.1", masterAuth: { clusterCaCertificate: "Q0E=" }, name: inputs.name };
    default:
      return {};
  }
}

/** Resolves an Output in a test (unknowns reject, so a test never passes on an unknown value). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise<T>((resolve) => output.apply((v) => resolve(v)));
}

/** Whether an Output is marked secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
  return pulumi.isSecret(output);
}

/** Waits until every registration in flight has reached the mocks. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  await new Promise((r) => setTimeout(r, 20));
}

/** The wire form of a secret value in mocked registrations (the SDK's special signature key). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Reads a registered input: whether it was sent as a secret, and its plain value. */
export function unwrap(value: unknown): { secret: boolean; value: unknown } {
  if (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG
  ) {
    return { secret: true, value: (value as { value: unknown }).value };
  }
  return { secret: false, value };
}

/** A custom resource with no behaviour, to depend on in tests. */
export class Marker extends pulumi.CustomResource {
  constructor(name: string) {
    super("test:index:Marker", name, {});
  }
}

/** Imports the program (`index.ts`) and returns what it threw (undefined when nothing), once registrations settled. */
export async function programError(): Promise<unknown> {
  let error: unknown;
  try {
    await import("../../../index");
  } catch (e) {
    error = e;
  }
  await settle();
  return error;
}
