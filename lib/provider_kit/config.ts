/**
 * Parse-and-describe for provider configurations: YAML or JSON text or an already parsed
 * value, validated with the provider's zod schema, every offending field named in one
 * `InvalidInputError` (which makes the agent exit with status 2). Secrets are never in the
 * file itself, only the file or environment variable that holds them: `readSecret` reads
 * them with errors of the same form.
 *
 * @module
 */

import type { z } from "zod";
import { parse as parseYaml } from "yaml";
import { errorMessage } from "../errors.ts";
import { InvalidInputError } from "../provider_errors.ts";

/** Options of {@linkcode parseProviderConfig}. */
export interface ParseProviderConfigOptions {
  /** The provider, such as `zstack`; messages start `<provider> provider config:`. */
  provider: string;
  /**
   * When set, a missing configuration is an error and this says what it must hold, such as
   * `endpoint, auth, clusterName`; otherwise it means every default.
   */
  required?: string;
}

/** One line per zod issue: `field "a.b": message`. */
export function describeConfigIssues(error: z.ZodError): string {
  return error.issues.map((issue) => {
    const field = issue.path.length === 0 ? "(top level)" : issue.path.map(String).join(".");
    return `field "${field}": ${issue.message}`;
  }).join("; ");
}

/**
 * Validates the configuration `raw` of provider `options.provider` against `schema`. Throws
 * `InvalidInputError` starting `<provider> provider config:` and naming every offending
 * field.
 */
export function parseProviderConfig<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  options: ParseProviderConfigOptions,
): z.output<S> {
  const context = `${options.provider} provider config`;
  let value = raw;
  if (typeof value === "string") {
    try {
      value = parseYaml(value);
    } catch (error) {
      throw new InvalidInputError(
        `${context}: expected YAML or JSON text, found a syntax error: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
  if (value === undefined || value === null) {
    if (options.required !== undefined) {
      throw new InvalidInputError(
        `${context}: expected a file given with --provider-config (${options.required}), found none`,
      );
    }
    value = {};
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new InvalidInputError(`${context}: ${describeConfigIssues(result.error)}`, {
      cause: result.error,
    });
  }
  return result.data;
}

/** Where secrets come from; tests pass fakes. */
export interface SecretSources {
  /** Reads a file as text. */
  readTextFile(path: string): Promise<string>;
  /** Reads an environment variable. */
  getEnv(name: string): string | undefined;
}

/** Files and environment of this process. */
export const processSecretSources: SecretSources = {
  readTextFile: (path) => Deno.readTextFile(path),
  getEnv: (name) => Deno.env.get(name),
};

/** Where one secret of a configuration is: inline (only for non-secret ids), a file or a variable. */
export interface SecretRef {
  /** The value itself. */
  value?: string;
  /** A file holding it (one trailing line break is dropped). */
  file?: string;
  /** An environment variable holding it. */
  env?: string;
}

/** Which secret of which provider's configuration is read, for error messages. */
export interface ReadSecretOptions {
  /** The provider, such as `zstack`. */
  provider: string;
  /** The field, such as `auth.account.password` (errors name `<field>File` or `<field>Env`). */
  field: string;
  /** Where files and variables are read (default: this process's). */
  sources?: SecretSources;
}

/** Reads the secret `ref` points at; a missing, unreadable or empty one is `InvalidInputError`. */
export async function readSecret(ref: SecretRef, options: ReadSecretOptions): Promise<string> {
  const { provider, field, sources = processSecretSources } = options;
  const context = `${provider} provider config`;
  if (ref.value !== undefined) return ref.value;
  if (ref.file !== undefined) {
    let text: string;
    try {
      text = await sources.readTextFile(ref.file);
    } catch (error) {
      throw new InvalidInputError(
        `${context}: field "${field}File": expected a readable file, found ${
          errorMessage(error)
        } for ${ref.file}`,
        { cause: error },
      );
    }
    const secret = text.replace(/\r?\n$/, "");
    if (secret === "") {
      throw new InvalidInputError(
        `${context}: field "${field}File": expected a non-empty file, found ${ref.file} empty`,
      );
    }
    return secret;
  }
  const name = ref.env ?? "";
  const secret = sources.getEnv(name);
  if (secret === undefined || secret === "") {
    throw new InvalidInputError(
      `${context}: field "${field}Env": expected environment variable ${name} to be set, found it ${
        secret === undefined ? "unset" : "empty"
      }`,
    );
  }
  return secret;
}
