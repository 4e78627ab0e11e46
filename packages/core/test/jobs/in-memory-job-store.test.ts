// The in-memory job store against the shared JobStore contract.
import { InMemoryJobStore } from '../../src/jobs/in-memory-job-store.js';
import { describeJobStoreContract } from './job-store-contract.js';

describeJobStoreContract('InMemoryJobStore', (now) => new InMemoryJobStore({ now }));
