/**
 * The bearer token of a client: the configured one, or the content of a token file that is
 * re-read every minute and after a 401, so that rotated ServiceAccount tokens are picked up.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { ClientConfig } from "./client_config.ts";

const logger = getLogger(["vkedge", "kube", "client"]);

const TOKEN_FILE_TTL_MS = 60_000;

/** Supplies the token for each request of one client. */
export class BearerToken {
  readonly #token: string | undefined;
  readonly #file: string | undefined;
  #cached: { value: string; readAt: number } | undefined;

  /** Reads `config.tokenFile` when set, else uses `config.token`. */
  constructor(config: Pick<ClientConfig, "token" | "tokenFile">) {
    this.#token = config.token;
    this.#file = config.tokenFile;
  }

  /** The token to send, or `undefined` for none; an unreadable file keeps the last token read. */
  async get(): Promise<string | undefined> {
    const file = this.#file;
    if (file === undefined) return this.#token;
    const now = performance.now();
    if (this.#cached !== undefined && now - this.#cached.readAt < TOKEN_FILE_TTL_MS) {
      return this.#cached.value;
    }
    try {
      const value = (await Deno.readTextFile(file)).trim();
      this.#cached = { value, readAt: now };
      return value;
    } catch (error) {
      logger.warn("cannot read token file {file}: {error}", { file, error: String(error) });
      return this.#cached?.value ?? this.#token;
    }
  }

  /** Forgets the token read from the file (after a 401), so the next request reads it again. */
  invalidate(): void {
    this.#cached = undefined;
  }
}
