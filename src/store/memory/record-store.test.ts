// Runs the record-store contract against the in-memory adapter.
import { describeRecordStore } from '../contract/record-store.contract.js';
import { MemoryRecordStore } from './record-store.js';

describeRecordStore('memory', { open: async () => new MemoryRecordStore() });
