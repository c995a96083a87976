// The fleet simulator: the load generator for benchmarks and the device fleet for `keepsake drill`.
export { Fleet, runFleet, type FleetOptions, type FleetProgress, type FleetSummary } from './fleet.js';
export type { AccountProvisioner, CreateUsers } from './accounts.js';
export { Ledger } from './ledger.js';
export { randomPng } from './images.js';
