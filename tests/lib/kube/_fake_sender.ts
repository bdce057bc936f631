// A RequestSender that records requests and answers from a script, for the resource and
// subresource client tests that need no server.

import type { KubeRequest, RequestSender } from "../../../lib/kube/mod.ts";

/** Records every request; `answer` decides the JSON reply (default: an empty object). */
export class FakeSender implements RequestSender {
  readonly requests: KubeRequest[] = [];
  answer: (request: KubeRequest) => unknown = () => ({});

  request<R>(request: KubeRequest): Promise<R> {
    this.requests.push(request);
    return Promise.resolve(this.answer(request) as R);
  }

  requestText(request: KubeRequest): Promise<string> {
    this.requests.push(request);
    return Promise.resolve(String(this.answer(request)));
  }

  openStream(request: KubeRequest): Promise<ReadableStream<Uint8Array>> {
    this.requests.push(request);
    return Promise.resolve(new ReadableStream<Uint8Array>({ start: (c) => c.close() }));
  }
}
