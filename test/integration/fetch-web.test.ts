// createFetch takes what the runtime's fetch takes: its Request, URL, Headers, FormData, Blob,
// URLSearchParams, streams and AbortSignal (and undici's own Request and FormData), and ky works
// with it. The server says what it received: the certificate, the content type and the body.
import ky from 'ky';
import { FormData as UndiciFormData, Request as UndiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createFetch, loadCertificate, type LoadedCertificate, type MtlsFetch } from '../../src/index.js';
import { fixture, testCa } from '../helpers.js';
import { echoRoute, startMtlsServer, type Received, type TestServer } from './servers.js';

type Echo = Received & { method: string; contentType: string | null; body: string };

let server: TestServer;
let slow: TestServer;
let cert: LoadedCertificate;
let fetch: MtlsFetch;

beforeAll(async () => {
  [server, slow, cert] = await Promise.all([startMtlsServer({ route: echoRoute }), startMtlsServer({ delayMs: 2000 }), loadCertificate({ pemFile: fixture('ec256.pem') })]);
  const store = new CertificateStore({ ca: testCa() });
  store.add({ host: 'localhost', port: '*', certificate: cert });
  fetch = createFetch(store);
});
afterAll(async () => {
  await fetch.close();
  await Promise.all([server.close(), slow.close()]);
});

const echo = async (res: Response) => {
  expect(res.status).toBe(200);
  const got = (await res.json()) as Echo;
  expect(got.fingerprint256).toBe(cert.fingerprint256);
  return got;
};

describe('createFetch with web objects', () => {
  it("takes the runtime's Request, with its method, headers and body", async () => {
    const got = await echo(await fetch(new Request(server.url('localhost', '/r'), { method: 'PUT', headers: new Headers({ 'content-type': 'text/x-test' }), body: 'hello' })));
    expect(got).toMatchObject({ method: 'PUT', contentType: 'text/x-test', body: 'hello', path: '/r' });
  });

  it('takes a URL', async () => {
    expect((await echo(await fetch(new URL(server.url('localhost', '/u'))))).path).toBe('/u');
  });

  it('sends FormData as multipart with a boundary, files included', async () => {
    const form = new FormData();
    form.append('name', 'acme');
    form.append('file', new Blob(['file body'], { type: 'text/plain' }), 'a.txt');
    const got = await echo(await fetch(server.url(), { method: 'POST', body: form }));
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(got.contentType ?? '')?.[1];
    expect(boundary).toBeTruthy();
    expect(got.body).toContain(`--${boundary}`);
    expect(got.body).toMatch(/name="name"\r\n\r\nacme\r\n/);
    expect(got.body).toMatch(/filename="a.txt"\r\nContent-Type: text\/plain\r\n\r\nfile body\r\n/);
  });

  it("takes undici's own Request and FormData too", async () => {
    const form = new UndiciFormData();
    form.append('k', 'v');
    const viaForm = await echo(await fetch(server.url(), { method: 'POST', body: form as unknown as FormData }));
    expect(viaForm.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(viaForm.body).toMatch(/name="k"\r\n\r\nv\r\n/);
    const viaRequest = await echo(await fetch(new UndiciRequest(server.url('localhost', '/undici'), { method: 'POST', body: 'x' }) as unknown as Request));
    expect(viaRequest).toMatchObject({ method: 'POST', body: 'x', path: '/undici' });
  });

  it('sends Blob, URLSearchParams and ReadableStream bodies', async () => {
    const blob = await echo(await fetch(server.url(), { method: 'POST', body: new Blob(['{"a":1}'], { type: 'application/json' }) }));
    expect(blob).toMatchObject({ contentType: 'application/json', body: '{"a":1}' });
    const params = await echo(await fetch(server.url(), { method: 'POST', body: new URLSearchParams({ q: 'a b', n: '1' }) }));
    expect(params).toMatchObject({ contentType: 'application/x-www-form-urlencoded;charset=UTF-8', body: 'q=a+b&n=1' });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('part 1, '));
        controller.enqueue(new TextEncoder().encode('part 2'));
        controller.close();
      },
    });
    const streamed = await echo(await fetch(server.url(), { method: 'POST', body: stream, duplex: 'half' } as RequestInit));
    expect(streamed.body).toBe('part 1, part 2');
  });

  it('an AbortSignal aborts the request', async () => {
    const err = await fetch(slow.url(), { signal: AbortSignal.timeout(100) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('TimeoutError');
  });

  it('is the fetch of ky', async () => {
    const api = ky.create({ prefixUrl: server.url('localhost', '/api'), fetch });
    const got = (await api.post('orders', { json: { id: 1 } }).json()) as Echo;
    expect(got).toMatchObject({ fingerprint256: cert.fingerprint256, method: 'POST', path: '/api/orders', contentType: 'application/json', body: '{"id":1}' });
  });
});
