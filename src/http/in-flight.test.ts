// Tests of countRequestsInFlight on a real node:http server: answered and aborted requests stop counting.
import assert from 'node:assert/strict';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { countRequestsInFlight } from './in-flight.js';

describe('countRequestsInFlight', () => {
  it('counts a request until it is answered or its client goes away', async () => {
    const held: ServerResponse[] = [];
    const server = createServer((_req, res) => held.push(res));
    const sut = countRequestsInFlight(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const until = async (f: () => boolean) => {
      for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
    };
    try {
      const answered = new Promise((resolve) => request({ port, host: '127.0.0.1', path: '/a' }, resolve).end());
      const aborted = request({ port, host: '127.0.0.1', path: '/b' });
      aborted.on('error', () => {});
      aborted.end();
      await until(() => held.length === 2);
      assert.equal(sut(), 2);
      held[0].end('ok');
      await answered;
      await until(() => sut() === 1);
      assert.equal(sut(), 1);
      aborted.destroy();
      await until(() => sut() === 0);
      assert.equal(sut(), 0, 'an aborted request does not stay counted');
    } finally {
      for (const r of held) r.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
