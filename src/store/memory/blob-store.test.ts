// Runs the blob-store contract against the in-memory adapter.
import { describeBlobStore } from '../contract/blob-store.contract.js';
import { MemoryBlobStore } from './blob-store.js';

describeBlobStore('memory', { open: async () => new MemoryBlobStore() });
