/**
 * Announcements to the stack's notification channels (`nova-rollout:notifyChannels`, a secret): the release events the
 * `up`/`rollback` commands send, and the freeze declared/lifted events of `freeze` and `post-launch`. Sending never
 * fails a command: an unreachable channel is recorded in the evidence directory by the notifier.
 */
import { type Channel, Notifier, type NotifyEventKind, parseChannels } from "../src/notify/notifier";
import { openStack, StackConfig } from "./engine";
import { describeFailure, UserError } from "./errors";

/** The stack's notifier (channels from the secret `nova-rollout:notifyChannels`; none when unset). */
export function notifierFor(projectDir: string, config: StackConfig): Notifier {
  let channels: Channel[];
  try {
    channels = parseChannels(config.value("notifyChannels"));
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  return new Notifier(channels, config.evidenceDir(projectDir));
}

/**
 * Sends one event for a stack from a command that does not otherwise open it (the stack is opened to read its
 * channels). When the stack cannot be opened (no backend configured, program not built), says so and goes on.
 */
export async function announce(
  projectDir: string,
  stackName: string,
  kind: NotifyEventKind,
  release: string,
  detail: string,
): Promise<void> {
  try {
    const stack = await openStack({ projectDir, stack: stackName });
    await notifierFor(projectDir, await StackConfig.of(stack)).send(kind, stackName, release, detail);
  } catch (e) {
    const why = describeFailure(e).message.split("\n")[0] ?? "";
    process.stderr.write(`warning: "${kind}" not announced: ${why}\n`);
  }
}
