#!/usr/bin/env node
// The `keepsake` command: one subcommand per file under commands/.
import './threadpool.js';
import { Command } from 'commander';

/**
 * Each subcommand's module, loaded only when it runs: loading all of them (the server, both
 * stores, the DAV layer) costs a short command such as `backup verify` most of a second.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).serveCommand(),
  user: async () => (await import('./commands/user.js')).userCommand(),
  export: async () => (await import('./commands/export.js')).exportCommand(),
  import: async () => (await import('./commands/import.js')).importCommand(),
  scrub: async () => (await import('./commands/scrub.js')).scrubCommand(),
  simulate: async () => (await import('./commands/simulate.js')).simulateCommand(), // client/fleet (issue 5)
  restore: async () => (await import('./commands/restore.js')).restoreCommand(),
  drill: async () => (await import('./commands/drill.js')).drillCommand(),
  backup: async () => (await import('./commands/backup.js')).backupCommand(), // backups (issue 3)
};

const program = new Command('keepsake')
  .description('Keepsake: a personal-data cloud that never loses an acknowledged write')
  .version('0.1.0')
  .showHelpAfterError();

const named = process.argv[2];
const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
for (const name of wanted) program.addCommand(await COMMANDS[name]());

await program.parseAsync(process.argv);
