/** Counts the requests a fetch handler is serving, streamed bodies included, so shutdown can wait for them. */
export interface InFlight {
  fetch(request: Request, ...rest: unknown[]): Promise<Response>;
  /** requests being served now */
  count(): number;
  /** Resolves once no request is being served. */
  drained(): Promise<void>;
}

/**
 * Wraps a fetch handler. A request counts until its handler has answered and, for a streamed answer, until
 * the body has been read to its end or cancelled: a client that hangs up does not end the work its
 * request started (a solve goes on to store its run), so the stores must stay open until it is done.
 */
export function trackInFlight(
  handler: (request: Request, ...rest: unknown[]) => Response | Promise<Response>,
): InFlight {
  let active = 0;
  let waiting: (() => void)[] = [];
  const done = () => {
    active--;
    if (active === 0) {
      for (const resolve of waiting) resolve();
      waiting = [];
    }
  };
  return {
    async fetch(request, ...rest) {
      active++;
      let response: Response;
      try {
        response = await handler(request, ...rest);
      } catch (e) {
        done();
        throw e;
      }
      if (!response.body) {
        done();
        return response;
      }
      const reader = response.body.getReader();
      let finished = false;
      const finish = () => {
        if (!finished) {
          finished = true;
          done();
        }
      };
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const { value, done: end } = await reader.read();
            if (end) {
              controller.close();
              finish();
            } else controller.enqueue(value);
          } catch (e) {
            controller.error(e);
            finish();
          }
        },
        async cancel(reason) {
          // the client went away; the handler's work may still be running: wait for the body to end
          reader
            .cancel(reason)
            .catch(() => {})
            .finally(finish);
        },
      });
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    },
    count: () => active,
    drained: () => (active === 0 ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve))),
  };
}
