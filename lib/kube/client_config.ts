/**
 * What a client needs to reach and authenticate to an API server, whichever way it was
 * loaded (kubeconfig or in-cluster), and the error for a configuration it cannot use.
 *
 * @module
 */

/** Everything `KubeClient` needs to reach and authenticate to an API server. */
export interface ClientConfig {
  /** The API server's base URL, e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** The default namespace of the context (`default` when unset). */
  namespace: string;
  /** PEM of the CA that signs the server certificate; the system roots when absent. */
  caPem?: string;
  /** PEM of the client certificate (chain). */
  certPem?: string;
  /** PEM of the client certificate's private key. */
  keyPem?: string;
  /** A bearer token. */
  token?: string;
  /** A file holding the bearer token; re-read so that rotated tokens are picked up. */
  tokenFile?: string;
  /** Skip server certificate verification (only with `allowInsecureSkipTlsVerify`, see `loadKubeConfig`). */
  insecureSkipTlsVerify?: boolean;
  /** A proxy URL (`http`, `https` or `socks5`) to reach the server through. */
  proxyUrl?: string;
  /** Where the config came from, for logs, e.g. `kubeconfig /root/.kube/config, context admin`. */
  source: string;
}

/** A kubeconfig (or in-cluster environment) the client cannot use; the message names the field. */
export class KubeConfigError extends Error {
  /** The field path, e.g. `users[admin].user.exec`. */
  readonly field: string;

  /** Creates the error for `field` with the explanation `detail`. */
  constructor(field: string, detail: string, options?: ErrorOptions) {
    super(`${field}: ${detail}`, options);
    this.name = "KubeConfigError";
    this.field = field;
  }
}
