// /metrics gauges for backups: lag, last ship, target up, last verified restore age, damaged objects — per target.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { addBackupGauges, type BackupMetricsSource } from '../../src/http/metrics.js';

describe('backup metrics', () => {
  it('reports each target: lag, last ship time, up/down, age of the last good verification, damage found by the rolling re-read', async () => {
    const registry = new Registry();
    const now = Date.now();
    const targets: BackupMetricsSource[] = [
      { target: 'file:///a', lagSeconds: 0, lastShipAt: new Date(now - 5000).toISOString(), state: 'ok', lastVerification: { at: new Date(now - 3600_000).toISOString(), ok: true }, rolling: { problems: [], lastCleanRoundAt: null } },
      { target: 'file:///b', lagSeconds: 42.5, lastShipAt: null, state: 'failing', lastVerification: { at: new Date(now - 60_000).toISOString(), ok: false }, rolling: { problems: [{}, {}], lastCleanRoundAt: null } },
    ];
    addBackupGauges(registry, () => targets);
    const text = await registry.metrics();
    const value = (name: string, target: string) => Number(new RegExp(`^${name}\\{target="${target}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('keepsake_backup_lag_seconds', 'file:///a'), 0);
    assert.equal(value('keepsake_backup_lag_seconds', 'file:///b'), 42.5);
    assert.ok(Math.abs(value('keepsake_backup_last_ship_timestamp_seconds', 'file:///a') - (now - 5000) / 1000) < 1);
    assert.equal(value('keepsake_backup_last_ship_timestamp_seconds', 'file:///b'), 0);
    assert.equal(value('keepsake_backup_target_up', 'file:///a'), 1);
    assert.equal(value('keepsake_backup_target_up', 'file:///b'), 0);
    const age = value('keepsake_backup_last_verified_restore_age_seconds', 'file:///a');
    assert.ok(age >= 3600 && age < 3700, `age ${age}`);
    assert.equal(value('keepsake_backup_last_verified_restore_age_seconds', 'file:///b'), -1, 'a failed verification is not a verified restore');
    assert.equal(value('keepsake_backup_damaged_objects', 'file:///a'), 0);
    assert.equal(value('keepsake_backup_damaged_objects', 'file:///b'), 2);
  });
});
