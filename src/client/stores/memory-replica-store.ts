// A ReplicaStore held in memory: for tests, simulators and apps that persist elsewhere.
import { ReplicaMaps, type ReplicaMutation, type ReplicaSnapshot, type ReplicaStore } from '../replica-store.js';

export class MemoryReplicaStore implements ReplicaStore {
  private readonly maps = new ReplicaMaps();
  private readonly blobs = new Map<string, Uint8Array>();

  async load(): Promise<ReplicaSnapshot> {
    return structuredClone(this.maps.snapshot());
  }

  async commit(mutations: ReplicaMutation[]): Promise<void> {
    // Clone first so the caller's later changes to the objects never leak into the store.
    for (const m of structuredClone(mutations)) this.maps.apply(m);
  }

  async putBlob(hash: string, bytes: Uint8Array): Promise<void> {
    if (!this.blobs.has(hash)) this.blobs.set(hash, bytes.slice());
  }

  async getBlob(hash: string): Promise<Uint8Array | null> {
    return this.blobs.get(hash) ?? null;
  }

  async close(): Promise<void> {}
}
