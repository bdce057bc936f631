/**
 * The mock provider's state file: the pods it runs and the VMs behind them (power, host,
 * snapshots, an action in progress), and its volumes with the counts of what was done to
 * them, kept on disk so that they outlive the agent process as the machines and disks of
 * a real IaaS would. It is read once when the provider is created.
 *
 * The file is a journal of JSON lines: the first line holds the whole state
 * (`{"version":2,"pods":[…],"volumes":[…],"volumeOperations":{…}}`), each later line one
 * change: `{"pod":{…}}` (a pod as it is now), `{"removed":"namespace/name"}`, or
 * `{"volumes":[…],"volumeOperations":{…}}`. A change appends its lines (and syncs them to
 * disk) instead of rewriting the file; once the appended lines outgrow the first one
 * (and 1 MiB), the file is rewritten atomically (temporary file, then rename) as one line
 * again, so writing costs about twice the state, not the state per change. A torn last
 * line (the machine stopped mid-write) is ignored. Files of version 1 (one JSON document)
 * are read too, and replaced by the journal on the first change.
 *
 * This file reads the journal; `state_records.ts` holds the records it keeps,
 * `state_codec.ts` their JSON form and `state_file_writer.ts` the writer.
 *
 * @module
 */

import { InvalidInputError } from "../../lib/provider.ts";
import { describeConfigIssues, errorMessage } from "../../lib/provider_kit/mod.ts";
import { changeSchema, savedPodOf, stateSchema } from "./state_codec.ts";
import { noVolumeOperations, type SavedPod, type SavedState } from "./state_records.ts";

export { encodeState } from "./state_codec.ts";
export { StateFileWriter, type StateSource } from "./state_file_writer.ts";
export {
  type ContainerInstance,
  type ContainerRecord,
  noVolumeOperations,
  type RestingPower,
  type SavedPod,
  type SavedState,
  type SavedVolume,
  type SnapshotRecord,
  type VirtualMachineRecord,
  type VmOperation,
  type VmOperationCounts,
  type VmTransition,
  type VolumeOperation,
  type VolumeOperationCounts,
} from "./state_records.ts";

/**
 * Reads the pods saved in the state file at `path`; a missing file holds none. Throws
 * `InvalidInputError` naming the file and the offending field when it cannot be used.
 */
export function readStateFile(path: string): SavedPod[] {
  return readState(path).pods;
}

/**
 * Reads everything saved in the state file at `path` (pods, volumes, volume counts); a
 * missing file holds nothing. Throws `InvalidInputError` like {@linkcode readStateFile}.
 */
export function readState(path: string): SavedState {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { pods: [], volumes: [], volumeOperations: noVolumeOperations() };
    }
    throw new InvalidInputError(
      `mock provider state file ${path}: expected a readable file, found ${errorMessage(error)}`,
      { cause: error },
    );
  }
  const { base, changes } = splitJournal(path, text);
  const result = stateSchema.safeParse(base);
  if (!result.success) {
    throw new InvalidInputError(
      `mock provider state file ${path}: ${describeConfigIssues(result.error)}`,
      { cause: result.error },
    );
  }
  const pods = new Map<string, SavedPod>();
  for (const saved of result.data.pods) {
    const key = `${saved.pod.metadata!.namespace}/${saved.pod.metadata!.name}`;
    if (pods.has(key)) {
      throw new InvalidInputError(
        `mock provider state file ${path}: expected one entry per pod, found ${key} twice`,
      );
    }
    pods.set(key, savedPodOf(saved));
  }
  let volumes = result.data.volumes;
  let volumeOperations = result.data.volumeOperations;
  changes.forEach((json, index) => {
    const change = changeSchema.safeParse(json);
    if (!change.success) {
      throw new InvalidInputError(
        `mock provider state file ${path}, line ${index + 2}: ${
          describeConfigIssues(change.error)
        }`,
        { cause: change.error },
      );
    }
    const data = change.data;
    if ("pod" in data) {
      const saved = savedPodOf(data.pod);
      pods.set(`${saved.pod.metadata!.namespace}/${saved.pod.metadata!.name}`, saved);
    } else if ("removed" in data) {
      pods.delete(data.removed);
    } else {
      volumes = data.volumes;
      volumeOperations = data.volumeOperations;
    }
  });
  return {
    pods: [...pods.values()],
    volumes: volumes.map((volume) => {
      const { attachedVm, ...rest } = volume;
      return attachedVm === undefined ? rest : { ...rest, attachedVm };
    }),
    volumeOperations,
  };
}

/**
 * The first JSON value of the file and the changes after it: one JSON document (version 1,
 * or a journal without changes), else JSON lines whose torn last line is dropped.
 */
function splitJournal(path: string, text: string): { base: unknown; changes: unknown[] } {
  try {
    return { base: JSON.parse(text), changes: [] };
  } catch (error) {
    const lines = text.split("\n");
    if (lines.length < 2) {
      throw new InvalidInputError(
        `mock provider state file ${path}: expected JSON, found a syntax error: ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
    const values: unknown[] = [];
    lines.forEach((line, index) => {
      if (line.trim() === "") return;
      try {
        values.push(JSON.parse(line));
      } catch (lineError) {
        // A change cut short by a crash is the last line, without its newline.
        if (index === lines.length - 1 && index > 0) return;
        throw new InvalidInputError(
          `mock provider state file ${path}, line ${
            index + 1
          }: expected JSON, found a syntax error: ${errorMessage(lineError)}`,
          { cause: lineError },
        );
      }
    });
    return { base: values[0], changes: values.slice(1) };
  }
}
