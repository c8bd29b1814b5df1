// Requests for the tests under load: one request through an undici dispatcher or an https agent,
// and loops of them running until stopped.
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { request, type Dispatcher } from 'undici';
import type { Received } from './servers.js';

export const get = async (url: string, dispatcher: Dispatcher) => (await (await request(url, { dispatcher })).body.json()) as Received;
export const getHttps = (url: string, agent: HttpsAgent) =>
  new Promise<Received>((resolve, reject) => {
    httpsRequest(url, { agent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve(JSON.parse(body) as Received));
    })
      .on('error', reject)
      .end();
  });

/** Requests running in a loop until stop(); counts what was served and what failed. */
export function underLoad(requests: Array<() => Promise<unknown>>) {
  let stop = false;
  const load = {
    failed: 0,
    served: 0,
    errors: [] as unknown[],
    stop: async () => {
      stop = true;
      await running;
    },
  };
  const running = Promise.all(
    requests.map(async (one) => {
      while (!stop) {
        await one().then(
          () => load.served++,
          (err: unknown) => {
            load.failed++;
            load.errors.push(err);
          },
        );
      }
    }),
  );
  return load;
}
