// `keepsake user add|list|passwd|delete|undelete|admin`: account management, also while the server runs.
import { Command } from 'commander';
import { STORE_KEYS, action, addConfigOptions, print, withKeepsake } from '../options.js';
import { readNewPassword } from '../password-input.js';

type Opts = Record<string, unknown> & { passwordStdin?: boolean; admin?: boolean; json?: boolean };

export function userCommand(): Command {
  const user = new Command('user').description('manage accounts (works while the server runs)');

  addConfigOptions(user.command('add <name>').description('create an account with one collection of each kind'), STORE_KEYS)
    .option('--password-stdin', 'read the password from standard input instead of prompting')
    .option('--admin', 'make the account an administrator (may use /api/v1/admin)')
    .option('--json', 'print JSON')
    .action(
      action(async (name: string, opts: Opts) => {
        const password = await readNewPassword(opts.passwordStdin === true);
        const u = await withKeepsake(opts, (k) => k.accounts.addUser(name, password, { admin: opts.admin === true }));
        print(opts.json, u, () => `created user ${u.name}${u.admin ? ' (admin)' : ''}`);
      }),
    );

  addConfigOptions(user.command('list').description('list accounts'), STORE_KEYS)
    .option('--json', 'print JSON')
    .action(
      action(async (opts: Opts) => {
        const users = await withKeepsake(opts, (k) => k.accounts.listUsers());
        print(opts.json, users, () =>
          users.length === 0
            ? 'no users'
            : users.map((u) => `${u.name.padEnd(24)} ${u.admin ? 'admin ' : '      '} ${u.deletedAt ? `deleted ${u.deletedAt}` : `since ${u.createdAt}`}`).join('\n'),
        );
      }),
    );

  addConfigOptions(user.command('passwd <name>').description('set a new password'), STORE_KEYS)
    .option('--password-stdin', 'read the password from standard input instead of prompting')
    .action(
      action(async (name: string, opts: Opts) => {
        const password = await readNewPassword(opts.passwordStdin === true);
        await withKeepsake(opts, (k) => k.accounts.setPassword(name, password));
        print(false, null, () => `password of ${name} changed`);
      }),
    );

  addConfigOptions(user.command('delete <name>').description('soft-delete an account: it stops working, its data is kept for the retention window'), STORE_KEYS).action(
    action(async (name: string, opts: Opts) => {
      await withKeepsake(opts, (k) => k.accounts.deleteUser(name));
      print(false, null, () => `deleted user ${name}; undo with: keepsake user undelete ${name}`);
    }),
  );

  addConfigOptions(user.command('undelete <name>').description('bring back a soft-deleted account'), STORE_KEYS).action(
    action(async (name: string, opts: Opts) => {
      await withKeepsake(opts, (k) => k.accounts.undeleteUser(name));
      print(false, null, () => `user ${name} is back`);
    }),
  );

  addConfigOptions(user.command('admin <name> <on|off>').description('grant or revoke administrator rights'), STORE_KEYS).action(
    action(async (name: string, onOff: string, opts: Opts) => {
      if (onOff !== 'on' && onOff !== 'off') throw new Error('expected "on" or "off"');
      await withKeepsake(opts, (k) => k.accounts.setAdmin(name, onOff === 'on'));
      print(false, null, () => `${name} is ${onOff === 'on' ? 'now' : 'no longer'} an administrator`);
    }),
  );
  return user;
}
