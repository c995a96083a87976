// A minimal HTTP/1.1 client for benchmark request loops: one connection, one request at a time.
import { connect, type Socket } from 'node:net';

/** A response: status and body text. */
export interface LeanResponse {
  status: number;
  text: string;
}

/**
 * Sends requests one at a time over one keep-alive connection, like a load generator (wrk, h2load)
 * rather than a general-purpose client: each request is one write, each response is parsed by
 * hand (Content-Length or chunked bodies). The benchmark client shares the machine's two cores
 * with the server it measures, so its CPU per request is taken from the server's round trips;
 * node:http spends ~0.25 ms of CPU per PUT here, this client ~0.1 ms.
 *
 * A response that ends the connection (`Connection: close`, or HTTP/1.0 without keep-alive, as
 * Radicale's server answers) makes the next request open a new one, as any client does.
 */
export class LeanHttpClient {
  private socket: Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: LeanResponse) => void; reject: (e: Error) => void } | null = null;
  private closing = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** Sends one request; `path` is the request target (absolute path). */
  async request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<LeanResponse> {
    if (this.pending) throw new Error('LeanHttpClient sends one request at a time');
    const socket = this.socket && !this.closing ? this.socket : await this.open();
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\ncontent-length: ${payload.length}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      socket.write(Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), payload]));
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): Promise<Socket> {
    this.close();
    this.buffer = Buffer.alloc(0);
    this.closing = false;
    return new Promise((resolve, reject) => {
      const socket = connect(this.port, this.host);
      socket.setNoDelay(true);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => {
        this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
        this.parse();
      });
      const fail = (e: Error) => {
        if (this.socket === socket) this.socket = null;
        const p = this.pending;
        this.pending = null;
        p?.reject(e);
      };
      socket.on('error', fail);
      socket.on('close', () => fail(new Error('the server closed the connection before answering')));
      this.socket = socket;
    });
  }

  /** Settles the pending request once its whole response is in the buffer. */
  private parse(): void {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0 || !this.pending) return;
    const head = this.buffer.toString('latin1', 0, end);
    const lines = head.split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const fields = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      fields.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    const rest = this.buffer.subarray(end + 4);
    let body: Buffer;
    let used: number;
    if (/chunked/i.test(fields.get('transfer-encoding') ?? '')) {
      const chunks: Buffer[] = [];
      let at = 0;
      for (;;) {
        const eol = rest.indexOf('\r\n', at);
        if (eol < 0) return;
        const size = parseInt(rest.toString('latin1', at, eol), 16);
        if (rest.length < eol + 2 + size + 2) return;
        chunks.push(rest.subarray(eol + 2, eol + 2 + size));
        at = eol + 2 + size + 2;
        if (size === 0) break;
      }
      body = Buffer.concat(chunks);
      used = at;
    } else {
      const declared = fields.get('content-length');
      const bodiless = status === 204 || status === 304 || status < 200;
      if (declared === undefined && !bodiless) {
        // A body delimited by the end of the connection: not something these loops expect.
        const p = this.pending;
        this.pending = null;
        this.close();
        return p.reject(new Error(`${lines[0]}: a response without Content-Length or chunked encoding`));
      }
      const length = bodiless ? 0 : Number(declared);
      if (rest.length < length) return;
      body = rest.subarray(0, length);
      used = length;
    }
    this.buffer = rest.subarray(used);
    const keepAlive = lines[0].startsWith('HTTP/1.1') ? !/close/i.test(fields.get('connection') ?? '') : /keep-alive/i.test(fields.get('connection') ?? '');
    if (!keepAlive) {
      // The server ends this connection: the next request must not be written to it.
      this.closing = true;
      this.socket?.removeAllListeners('close');
      this.socket?.destroy();
      this.socket = null;
    }
    const p = this.pending;
    this.pending = null;
    p.resolve({ status, text: body.toString('utf8') });
  }
}
