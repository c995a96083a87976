#!/usr/bin/env node
// The `keepsake` command: one subcommand per file under commands/.
import './threadpool.js';
import { Command } from 'commander';
import { backupCommand } from './commands/backup.js'; // backups (issue 3)
import { drillCommand } from './commands/drill.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { restoreCommand } from './commands/restore.js';
import { scrubCommand } from './commands/scrub.js';
import { serveCommand } from './commands/serve.js';
import { simulateCommand } from './commands/simulate.js'; // client/fleet (issue 5)
import { userCommand } from './commands/user.js';

const program = new Command('keepsake')
  .description('Keepsake: a personal-data cloud that never loses an acknowledged write')
  .version('0.1.0')
  .showHelpAfterError();

program.addCommand(serveCommand());
program.addCommand(userCommand());
program.addCommand(exportCommand());
program.addCommand(importCommand());
program.addCommand(scrubCommand());
program.addCommand(simulateCommand()); // client/fleet (issue 5)
program.addCommand(restoreCommand());
program.addCommand(drillCommand());
program.addCommand(backupCommand()); // backups (issue 3)

await program.parseAsync(process.argv);
