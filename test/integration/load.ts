// Requests for the tests under load: one request through an undici dispatcher or an https agent,
// and loops of them running until stopped.
import { request as httpsRequest, type Agent as HttpsAgent, type RequestOptions } from 'node:https';
import { request, type Dispatcher } from 'undici';
import type { Received } from './servers.js';

export const get = async (url: string, dispatcher: Dispatcher) => (await (await request(url, { dispatcher })).body.json()) as Received;
/** One `https.request`, answered by a test server with what it received. */
export function httpsGet(url: string, options: RequestOptions): Promise<Received> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(JSON.parse(body) as Received));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export const getHttps = (url: string, agent: HttpsAgent) => httpsGet(url, { agent });

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
