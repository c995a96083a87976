// Reading a password from standard input (--password-stdin) or from a hidden terminal prompt.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fail } from '../core/errors.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function prompt(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  const answer = new Promise<string>((resolve) => rl.question(question, resolve));
  muted = true;
  const text = await answer;
  rl.close();
  process.stderr.write('\n');
  return text;
}

/** The new password, from stdin or prompted twice on a terminal. */
export async function readNewPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return readStdin();
  if (!process.stdin.isTTY) fail('invalid_request', 'no terminal to prompt on: pass the password with --password-stdin');
  const a = await prompt('Password: ');
  const b = await prompt('Repeat password: ');
  if (a !== b) fail('invalid_request', 'the two passwords differ');
  return a;
}
